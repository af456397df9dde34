// --precision / HEARTH_PRECISION parsing (engine/loader.h), shared by serve, generate and bench-engine.
#include <gtest/gtest.h>

#include <string>

#include "engine/loader.h"
#include "util/error.h"

namespace hearth::engine {
namespace {

TEST(PrecisionFlag, FastAndExactParseAndNameThemselves) {
  EXPECT_EQ(parse_precision("fast"), Precision::fast);
  EXPECT_EQ(parse_precision("exact"), Precision::exact);
  EXPECT_STREQ(precision_name(Precision::fast), "fast");
  EXPECT_STREQ(precision_name(Precision::exact), "exact");
  EXPECT_EQ(LoadOptions{}.precision, Precision::fast);  // the default
}

TEST(PrecisionFlag, AnythingElseIsAnInvalidRequestNamingTheFlagAndTheChoices) {
  for (const std::string bad : {"", "Fast", "bf16", "fp32", "exact "}) {
    try {
      parse_precision(bad, "HEARTH_PRECISION");
      FAIL() << "'" << bad << "' was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_request);
      const std::string what = e.what();
      EXPECT_NE(what.find("HEARTH_PRECISION"), std::string::npos) << what;
      EXPECT_NE(what.find("fast, exact"), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace hearth::engine
