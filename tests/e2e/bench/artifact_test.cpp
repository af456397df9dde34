#include "bench/artifact.h"

#include <gtest/gtest.h>

#include <fstream>

#include "util/error.h"

namespace hearth::bench {
namespace {
namespace fs = std::filesystem;

class BenchArtifact : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: ctest runs the tests of this fixture in parallel.
    root_ = fs::temp_directory_path() / ("hearth-bench-artifact-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "model" / "sub");
    std::ofstream(root_ / "model" / "config.json") << "{\"layers\": 2}";
    std::ofstream(root_ / "model" / "sub" / "weights.bin") << "0123456789";
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(BenchArtifact, DirectoryHashFollowsContentNotLocation) {
  const std::string id = artifact_identity(root_ / "model");
  EXPECT_EQ(id.rfind("sha256:", 0), 0u);
  EXPECT_EQ(id.size(), 7u + 64u);
  fs::copy(root_ / "model", root_ / "moved", fs::copy_options::recursive);
  EXPECT_EQ(artifact_identity(root_ / "moved"), id);
  std::ofstream(root_ / "moved" / "sub" / "weights.bin") << "0123456788";
  EXPECT_NE(artifact_identity(root_ / "moved"), id);
  fs::rename(root_ / "moved" / "sub" / "weights.bin", root_ / "moved" / "sub" / "other.bin");
  std::ofstream(root_ / "moved" / "sub" / "other.bin") << "0123456789";
  EXPECT_NE(artifact_identity(root_ / "moved"), id) << "a renamed file is a different artifact";
}

TEST_F(BenchArtifact, HuggingFaceSnapshotIsNamedByRepositoryAndRevision) {
  const fs::path snap = root_ / "hub" / "models--Qwen--Qwen3.5-35B-A3B" / "snapshots" / "0123abcd4567ef";
  fs::create_directories(snap);
  EXPECT_EQ(artifact_identity(snap), "hf:Qwen/Qwen3.5-35B-A3B@0123abcd4567ef");
}

TEST_F(BenchArtifact, MissingPathIsAnError) { EXPECT_THROW(artifact_identity(root_ / "absent"), Error); }

}  // namespace
}  // namespace hearth::bench
