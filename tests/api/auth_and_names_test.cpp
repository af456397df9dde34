// API keys (both header forms, constant-time compare, auth off when no token), the loopback rule, and
// served model names with wildcards.
#include <gtest/gtest.h>

#include "api/auth.h"
#include "api/model_names.h"

namespace hearth::api {
namespace {

HttpRequest with_header(std::string name, std::string value) {
  HttpRequest r;
  r.headers[std::move(name)] = std::move(value);
  return r;
}

TEST(Auth, AcceptsXApiKeyAndBearer) {
  EXPECT_TRUE(is_authorized(with_header("x-api-key", "s3cret"), "s3cret"));
  EXPECT_TRUE(is_authorized(with_header("authorization", "Bearer s3cret"), "s3cret"));
  EXPECT_TRUE(is_authorized(with_header("authorization", "bearer s3cret"), "s3cret"));
}

TEST(Auth, RejectsWrongMissingAndMalformedKeys) {
  EXPECT_FALSE(is_authorized(with_header("x-api-key", "s3cre"), "s3cret"));
  EXPECT_FALSE(is_authorized(HttpRequest{}, "s3cret"));
  EXPECT_FALSE(is_authorized(with_header("authorization", "Basic s3cret"), "s3cret"));
  EXPECT_FALSE(is_authorized(with_header("authorization", "Bearer "), "s3cret"));
}

TEST(Auth, EmptyConfiguredTokenDisablesAuth) { EXPECT_TRUE(is_authorized(HttpRequest{}, "")); }

TEST(Auth, LoopbackHosts) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("192.168.1.5"));
  EXPECT_FALSE(is_loopback_host("::"));
}

TEST(ServedModels, ExactAndWildcardNames) {
  ServedModels names({"qwen3.5-35b", "claude-*"});
  EXPECT_TRUE(names.accepts("qwen3.5-35b"));
  EXPECT_TRUE(names.accepts("claude-sonnet-4-5"));
  EXPECT_FALSE(names.accepts("gpt-4"));
  EXPECT_EQ(names.listed(), std::vector<std::string>{"qwen3.5-35b"});
  EXPECT_TRUE(ServedModels({}).accepts("anything"));
}

TEST(WildcardMatch, Cases) {
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_TRUE(wildcard_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(wildcard_match("a*b*c", "axxbyy"));
  EXPECT_TRUE(wildcard_match("*haiku*", "claude-3-5-haiku-latest"));
  // Pathological pattern stays fast (no exponential backtracking).
  EXPECT_FALSE(wildcard_match("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

}  // namespace
}  // namespace hearth::api
