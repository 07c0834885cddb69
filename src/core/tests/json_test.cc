#include "core/json.h"

#include <gtest/gtest.h>

namespace gantry::core {
namespace {

TEST(StrictJson, MalformedBodyIsInvalidArgument) {
  auto r = ParseObject("{\"a\": ");
  ASSERT_FALSE(r);
  EXPECT_EQ(Code::kInvalidArgument, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("malformed JSON"));
  EXPECT_FALSE(ParseObject("[1,2]"));
  EXPECT_FALSE(ParseObject(""));
}

TEST(StrictJson, UnknownFieldIsNamed) {
  auto obj = ParseObject(R"({"username":"a","pasword":"x"})");
  ASSERT_TRUE(obj);
  auto st = OnlyFields(*obj, {"username", "password"});
  ASSERT_FALSE(st);
  EXPECT_EQ("pasword", st.error().field);
  EXPECT_NE(std::string::npos, st.error().message.find("valid fields: username, password"));
}

TEST(StrictJson, WrongTypesNameTheField) {
  auto obj = *ParseObject(R"({"name": 5, "n": "x", "b": 1, "roles": ["a", 2]})");
  EXPECT_EQ("name", GetString(obj, "name").error().field);
  EXPECT_EQ("n", OptInt(obj, "n").error().field);
  EXPECT_EQ("b", OptBool(obj, "b").error().field);
  EXPECT_EQ("roles", OptStringArray(obj, "roles").error().field);
  EXPECT_EQ("missing", GetString(obj, "missing").error().field);
}

TEST(StrictJson, DeepNestingIsRejected) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_FALSE(ParseJson(deep));
}

}  // namespace
}  // namespace gantry::core
