#include "bench/workspace.h"

#include <gtest/gtest.h>

#include <fstream>

#include "bench/subprocess.h"
#include "bench/task_catalog.h"
#include "util/error.h"

namespace hearth::bench {
namespace {
namespace fs = std::filesystem;

class BenchWorkspace : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("hearth-bench-ws-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    task_ = load_tasks(HEARTH_BENCH_DIR "/tasks", {"04-rate-limiter"}).at(0);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
  BenchTask task_;
};

TEST_F(BenchWorkspace, WorkingCopyIsACommittedGitRepoWithoutHeldoutTestsAndWithTheToolchainLinked) {
  const fs::path wc = root_ / "work";
  prepare_working_copy(task_, wc, HEARTH_BENCH_DIR "/node_modules");
  EXPECT_TRUE(fs::exists(wc / "TASK.md"));
  EXPECT_TRUE(fs::exists(wc / "test" / "rateLimiter.test.ts"));
  EXPECT_FALSE(fs::exists(wc / "heldout"));
  for (const auto& e : fs::recursive_directory_iterator(wc / "src")) {
    EXPECT_EQ(e.path().string().find("heldout"), std::string::npos) << e.path();
  }
  // A private copy of the toolchain, not a link into the benchmark checkout.
  EXPECT_FALSE(fs::is_symlink(wc / "node_modules"));
  EXPECT_TRUE(fs::is_directory(wc / "node_modules" / "tsx"));
  EXPECT_EQ(capture_output({"git", "status", "--porcelain"}, wc), "");
  EXPECT_EQ(diff_working_copy(wc).patch, "");
}

TEST_F(BenchWorkspace, DiffHasNewAndChangedFilesButNoLockFilesEvenAfterAgentCommits) {
  const fs::path wc = root_ / "work";
  prepare_working_copy(task_, wc, HEARTH_BENCH_DIR "/node_modules");
  std::ofstream(wc / "src" / "rateLimiter.ts", std::ios::app) << "// changed\n";
  fs::create_directories(wc / "src" / "extra");
  std::ofstream(wc / "src" / "extra" / "new.ts") << "export const x = 1;\n";
  std::ofstream(wc / "package-lock.json") << "{\"lockfileVersion\": 3}\n";
  fs::create_directories(wc / "sub");
  std::ofstream(wc / "sub" / "yarn.lock") << "# yarn\n";
  // An agent that commits its work must still be measured against the task as given.
  capture_output({"git", "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qam", "agent"}, wc);
  WorkingCopyDiff d = diff_working_copy(wc);
  EXPECT_EQ(d.files, (std::vector<std::string>{"src/extra/new.ts", "src/rateLimiter.ts"}));
  EXPECT_NE(d.patch.find("+// changed"), std::string::npos);
  EXPECT_NE(d.patch.find("+export const x = 1;"), std::string::npos);
  EXPECT_EQ(d.patch.find("lockfileVersion"), std::string::npos);
  EXPECT_EQ(d.patch.find("yarn"), std::string::npos);
}

TEST_F(BenchWorkspace, NpmInstallInTheWorkingCopyKeepsTheToolchain) {
  const fs::path wc = root_ / "work";
  prepare_working_copy(task_, wc, HEARTH_BENCH_DIR "/node_modules");
  // No registry is reachable on the GPU machines: npm must be satisfied by what is installed (the
  // working copy's .npmrc keeps it offline; with a dead registry it would retry for a minute).
  capture_output({"npm", "install", "--registry", "http://127.0.0.1:9"}, wc, std::chrono::seconds(30));
  EXPECT_TRUE(fs::is_directory(wc / "node_modules" / "tsx"));
  EXPECT_EQ(capture_output({"node", "--import", "tsx", "-e", "console.log('tsx ok')"}, wc), "tsx ok\n");
  // The starting commit already declares the toolchain, so the install changed nothing that is diffed.
  EXPECT_EQ(diff_working_copy(wc).patch, "");
}

TEST_F(BenchWorkspace, RefusesAnExistingDestinationOrAMissingToolchain) {
  EXPECT_THROW(prepare_working_copy(task_, root_, HEARTH_BENCH_DIR "/node_modules"), Error);
  EXPECT_THROW(prepare_working_copy(task_, root_ / "w2", root_ / "no-toolchain"), Error);
}

TEST(BenchTaskCatalog, FindsEveryTaskSortedWithTitleAndKind) {
  auto tasks = load_tasks(HEARTH_BENCH_DIR "/tasks");
  ASSERT_GE(tasks.size(), 6u);
  EXPECT_EQ(tasks[0].id, "01-invoice-rounding");
  EXPECT_EQ(tasks[0].kind, "bug fix");
  EXPECT_EQ(tasks[3].id, "04-rate-limiter");
  EXPECT_EQ(tasks[3].kind, "from scratch");
  for (const auto& t : tasks) EXPECT_FALSE(t.title.empty()) << t.id;
}

TEST(BenchTaskCatalog, UnknownTaskOrFolderIsAClearError) {
  EXPECT_THROW(load_tasks(HEARTH_BENCH_DIR "/tasks", {"99-nope"}), Error);
  EXPECT_THROW(load_tasks(HEARTH_BENCH_DIR "/tasks", {"../tasks"}), Error);
  EXPECT_THROW(load_tasks("/nonexistent/tasks"), Error);
  const fs::path bad = fs::temp_directory_path() / "hearth-bench-badtask";
  fs::remove_all(bad);
  fs::create_directories(bad / "01-broken");
  std::ofstream(bad / "01-broken" / "task.json") << "{\"title\": 3}";
  EXPECT_THROW(load_tasks(bad), Error);
  fs::remove_all(bad);
}

}  // namespace
}  // namespace hearth::bench
