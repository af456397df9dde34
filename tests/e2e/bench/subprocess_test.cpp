#include "bench/subprocess.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "bench/server.h"
#include "util/error.h"

namespace hearth::bench {
namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(BenchSubprocess, RunsInTheGivenDirectoryWithExactlyTheGivenEnvironment) {
  const fs::path out = fs::temp_directory_path() / "hearth-bench-sp-env.txt";
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "pwd; echo \"$ONLY_THIS\"; echo \"${HOME:-nohome}\"; exit 3"};
  spec.cwd = "/tmp";
  spec.env = {{"ONLY_THIS", "value"}, {"PATH", "/usr/bin:/bin"}};
  spec.stdout_path = out;
  ProcessResult r = run_process(spec);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(slurp(out), "/tmp\nvalue\nnohome\n");
}

TEST(BenchSubprocess, TimeoutStopsTheChildAndEverythingItStarted) {
  const fs::path pidfile = fs::temp_directory_path() / "hearth-bench-sp-grandchild.pid";
  fs::remove(pidfile);
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "sleep 30 & echo $! > " + pidfile.string() + "; wait"};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  spec.timeout = std::chrono::milliseconds(500);
  ProcessResult r = run_process(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(r.wall_s, 10);
  const int grandchild = std::stoi(slurp(pidfile));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Gone, or a zombie waiting for its new parent to reap it: either way no longer running.
  const std::string stat = slurp("/proc/" + std::to_string(grandchild) + "/stat");
  const bool running = !stat.empty() && stat.find(") Z") == std::string::npos;
  EXPECT_FALSE(running) << "the background sleep survived: " << stat;
}

TEST(BenchSubprocess, MissingProgramOrDirectoryIsAnError) {
  ProcessSpec spec;
  spec.argv = {"hearth-no-such-program"};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  EXPECT_THROW(run_process(spec), Error);
  spec.argv = {"/bin/true"};
  spec.cwd = "/nonexistent/dir";
  EXPECT_THROW(run_process(spec), Error);
}

TEST(BenchSubprocess, CaptureOutputReturnsStdoutAndThrowsWithStderrOnFailure) {
  EXPECT_EQ(capture_output({"/bin/sh", "-c", "echo hi"}, "/"), "hi\n");
  try {
    capture_output({"/bin/sh", "-c", "echo oops >&2; exit 1"}, "/");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("oops"), std::string::npos);
  }
}

TEST(BenchServer, PlaceholdersAreSubstitutedEverywhereInEachArgument) {
  auto out = substitute({"serve", "--port", "{port}", "--x={model}/{model}", "{unknown}"},
                        {{"port", "8123"}, {"model", "m"}});
  EXPECT_EQ(out, (std::vector<std::string>{"serve", "--port", "8123", "--x=m/m", "{unknown}"}));
}

TEST(BenchServer, HealthProbeIsFalseWhereNothingListensAndRejectsBadUrls) {
  EXPECT_FALSE(server_healthy("http://127.0.0.1:" + std::to_string(pick_free_port())));
  EXPECT_THROW(server_healthy("https://example.invalid/"), Error);
}

}  // namespace
}  // namespace hearth::bench
