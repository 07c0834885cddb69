// The agent listener's gzip: which Accept-Encoding values allow it, and that Gzip() is real gzip
// (zlib's inflate in gzip mode gives the input back).
#include "agent/http_listener.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace gantry::agent {
namespace {

std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int r = inflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  EXPECT_EQ(r, Z_STREAM_END);
  return out;
}

TEST(AgentGzip, AcceptEncodingValues) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("GZIP"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("identity, x-gzip"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("gzip ; q=1.0"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(AcceptsGzip("gzipx"));
}

TEST(AgentGzip, RoundTrip) {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += "node_cpu_seconds_total{cpu=\"" + std::to_string(i % 64) + "\",mode=\"idle\"} " + std::to_string(i * 7) + "\n";
  }
  std::string z = Gzip(text);
  ASSERT_FALSE(z.empty());
  EXPECT_EQ(static_cast<unsigned char>(z[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(z[1]), 0x8b);
  EXPECT_LT(z.size() * 5, text.size()) << "exposition text compresses well";
  EXPECT_EQ(Gunzip(z), text);
  EXPECT_EQ(Gunzip(Gzip("")), "");
}

}  // namespace
}  // namespace gantry::agent
