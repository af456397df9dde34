#include "cache/byte_size.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace hearth::cache {
namespace {

TEST(ByteSize, AcceptsPlainNumbersAndBinaryUnits) {
  EXPECT_EQ(parse_byte_size("0", "x"), 0u);
  EXPECT_EQ(parse_byte_size("4096", "x"), 4096u);
  EXPECT_EQ(parse_byte_size("512M", "x"), size_t(512) << 20);
  EXPECT_EQ(parse_byte_size("8G", "x"), size_t(8) << 30);
  EXPECT_EQ(parse_byte_size("1.5GiB", "x"), size_t(3) << 29);
  EXPECT_EQ(parse_byte_size("2kb", "x"), 2048u);
}

TEST(ByteSize, RejectsWhatIsNotASizeNamingTheSetting) {
  for (const char* bad : {"", "-1", "8X", "G", "1e30", "nan"}) {
    try {
      parse_byte_size(bad, "--cache-host-bytes");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_request);
      EXPECT_NE(std::string(e.what()).find("--cache-host-bytes"), std::string::npos);
    }
  }
}

TEST(ByteSize, FormatsWithTheLargestFittingUnit) {
  EXPECT_EQ(format_byte_size(512), "512 B");
  EXPECT_EQ(format_byte_size(size_t(63) << 20), "63.0 MiB");
}

}  // namespace
}  // namespace hearth::cache
