// The CORS decisions for browser clients: nothing without an allow-list, exact origins (a trailing '/'
// ignored), '*' for any, preflight headers echoing what the browser asked for.
#include <gtest/gtest.h>

#include <algorithm>

#include "api/cors.h"

namespace hearth::api {
namespace {

std::string header(const HeaderList& headers, std::string_view name) {
  auto it = std::find_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; });
  return it == headers.end() ? std::string() : it->second;
}

TEST(CorsPolicy, OffWithoutAnAllowList) {
  CorsPolicy off;
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.allows("http://localhost:5173"));
  EXPECT_TRUE(off.response_headers("http://localhost:5173").empty());
  EXPECT_TRUE(off.preflight_headers("http://localhost:5173", "POST", "x-api-key").empty());
}

TEST(CorsPolicy, AllowsListedOriginsExactlyAndNamesThemBack) {
  CorsPolicy cors({"http://localhost:5173/", "https://app.example.com"});
  EXPECT_TRUE(cors.enabled());
  EXPECT_TRUE(cors.allows("http://localhost:5173"));
  EXPECT_TRUE(cors.allows("https://app.example.com/"));
  EXPECT_FALSE(cors.allows("https://app.example.com.evil.net"));
  EXPECT_FALSE(cors.allows("http://localhost:5174"));
  EXPECT_FALSE(cors.allows(""));
  const HeaderList h = cors.response_headers("https://app.example.com");
  EXPECT_EQ(header(h, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(header(h, "Vary"), "Origin");
  EXPECT_TRUE(cors.response_headers("https://other.example.com").empty());
}

TEST(CorsPolicy, StarAllowsAnyOrigin) {
  CorsPolicy cors({"*"});
  EXPECT_TRUE(cors.allows("https://anything.example"));
  EXPECT_EQ(header(cors.response_headers("https://anything.example"), "Access-Control-Allow-Origin"),
            "https://anything.example");
}

TEST(CorsPolicy, PreflightEchoesTheRequestedHeadersAndListsTheMethods) {
  CorsPolicy cors({"http://localhost:5173"});
  const HeaderList h = cors.preflight_headers("http://localhost:5173", "POST, OPTIONS",
                                              "x-api-key, anthropic-version, anthropic-dangerous-direct-browser-access");
  EXPECT_EQ(header(h, "Access-Control-Allow-Methods"), "POST, OPTIONS");
  EXPECT_EQ(header(h, "Access-Control-Allow-Headers"), "x-api-key, anthropic-version, anthropic-dangerous-direct-browser-access");
  EXPECT_FALSE(header(h, "Access-Control-Max-Age").empty());
  EXPECT_TRUE(cors.preflight_headers("http://elsewhere", "POST", "x-api-key").empty());
}

}  // namespace
}  // namespace hearth::api
