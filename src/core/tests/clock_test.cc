#include "core/clock.h"

#include <gtest/gtest.h>

namespace gantry::core {
namespace {

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
  EXPECT_EQ("1970-01-01T00:00:00.000Z", FormatRfc3339(0));
  EXPECT_EQ("2026-11-25T12:34:56.789Z", FormatRfc3339(1795610096789000000));
}

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
  EXPECT_EQ(1795610096789000000, *ParseRfc3339("2026-11-25T12:34:56.789Z"));
  EXPECT_EQ(1795610096000000000, *ParseRfc3339("2026-11-25T13:34:56+01:00"));
  EXPECT_EQ(1795610096000000001, *ParseRfc3339("2026-11-25T12:34:56.000000001Z"));
}

TEST(Rfc3339, RoundTrips) {
  UnixNanos t = 1700000000123000000;
  EXPECT_EQ(t, *ParseRfc3339(FormatRfc3339(t)));
}

TEST(Rfc3339, RejectsGarbage) {
  for (const char* bad : {"", "2026-11-25", "2026-11-25T12:34:56", "2026-13-01T00:00:00Z",
                          "2026-11-25T12:34:56Zjunk", "2026-11-25T12:34:56.Z", "yesterday"}) {
    auto r = ParseRfc3339(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(Code::kInvalidArgument, r.error().code);
  }
}

}  // namespace
}  // namespace gantry::core
