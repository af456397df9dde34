// --model ORG/NAME[@REVISION] in the local Hugging Face cache: repository ids told apart from paths,
// the cache directory from the environment, branches/tags/commits resolved through refs/ and snapshots/,
// and an error that names what is missing for each way a cache can fall short.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "hub/hf_cache.h"
#include "util/error.h"

namespace hearth::hub {
namespace {

namespace fs = std::filesystem;

const std::string kMain = "0123456789abcdef0123456789abcdef01234567";
const std::string kOld = "fedcba9876543210fedcba9876543210fedcba98";

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

// A cache holding mlx-community/Qwen3.6-35B-A3B-4bit at two commits: main and the tag v1 (older).
class FakeCache : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("hearth-hf-cache-" + std::to_string(std::random_device{}()));
    repo = root / "models--mlx-community--Qwen3.6-35B-A3B-4bit";
    write(repo / "refs" / "main", kMain + "\n");
    write(repo / "refs" / "v1", kOld);
    write(repo / "snapshots" / kMain / "config.json", "{}");
    write(repo / "snapshots" / kOld / "config.json", "{}");
  }
  void TearDown() override { fs::remove_all(root); }

  std::string error_of(const RepoRef& ref) {
    try {
      resolve_in_cache(ref, root);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::not_found) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error for " << ref.repo << "@" << ref.revision;
    return {};
  }

  fs::path root, repo;
};

TEST(ParseRepoRef, RepositoryIdsWithAndWithoutRevision) {
  auto plain = parse_repo_ref("mlx-community/Qwen3.6-35B-A3B-4bit");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->repo, "mlx-community/Qwen3.6-35B-A3B-4bit");
  EXPECT_EQ(plain->revision, "");
  auto tagged = parse_repo_ref("Qwen/Qwen3.5-0.8B@v1.0");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->repo, "Qwen/Qwen3.5-0.8B");
  EXPECT_EQ(tagged->revision, "v1.0");
  EXPECT_EQ(parse_repo_ref("org/name@refs/pr/1")->revision, "refs/pr/1");
}

TEST(ParseRepoRef, PathsAndMalformedIdsAreNotRepositoryIds) {
  for (const char* text : {"", "name", "./models/m", "/models/m", "a/b/c", "org/", "/name", "org/..", "../name",
                           "org/name@", "org/name@../../etc", "org/na me", "org/name@a//b"}) {
    EXPECT_FALSE(parse_repo_ref(text)) << text;
  }
}

// Sets environment variables for one test and puts the old values back afterwards.
class ScopedEnv {
 public:
  void set(const char* name, const std::string& value) {
    remember(name);
    setenv(name, value.c_str(), 1);
  }
  void unset(const char* name) {
    remember(name);
    unsetenv(name);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) setenv(it->first.c_str(), it->second->c_str(), 1);
      else unsetenv(it->first.c_str());
    }
  }

 private:
  void remember(const char* name) {
    const char* v = std::getenv(name);
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(HubCacheDir, FollowsHuggingFaceHubsOrderOfVariables) {
  ScopedEnv env;
  for (const char* name : {"HF_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"}) env.unset(name);
  env.set("HOME", "/home/u");
  EXPECT_EQ(hub_cache_dir(), fs::path("/home/u/.cache/huggingface/hub"));
  env.set("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(hub_cache_dir(), fs::path("/xdg/huggingface/hub"));
  env.set("HF_HOME", "/hf");
  EXPECT_EQ(hub_cache_dir(), fs::path("/hf/hub"));
  env.set("HF_HUB_CACHE", "/hub-cache");
  EXPECT_EQ(hub_cache_dir(), fs::path("/hub-cache"));
}

TEST_F(FakeCache, NoRevisionMeansMainThroughItsRef) {
  const CachedModel m = resolve_in_cache({"mlx-community/Qwen3.6-35B-A3B-4bit", ""}, root);
  EXPECT_EQ(m.dir, repo / "snapshots" / kMain);
  EXPECT_EQ(m.revision, "main");
  EXPECT_EQ(m.commit, kMain);
  EXPECT_EQ(m.describe(), "mlx-community/Qwen3.6-35B-A3B-4bit@main (commit " + kMain + ")");
  EXPECT_EQ(m.name(), "Qwen3.6-35B-A3B-4bit");
}

TEST_F(FakeCache, TagsAndCommitHashesPickTheirSnapshot) {
  EXPECT_EQ(resolve_in_cache({"mlx-community/Qwen3.6-35B-A3B-4bit", "v1"}, root).dir, repo / "snapshots" / kOld);
  const CachedModel by_commit = resolve_in_cache({"mlx-community/Qwen3.6-35B-A3B-4bit", kOld}, root);
  EXPECT_EQ(by_commit.dir, repo / "snapshots" / kOld);
  EXPECT_EQ(by_commit.commit, kOld);
}

TEST_F(FakeCache, MissingPiecesAreNamed) {
  EXPECT_NE(error_of({"Qwen/Qwen3.5-27B", ""}).find("models--Qwen--Qwen3.5-27B"), std::string::npos);
  const std::string no_branch = error_of({"mlx-community/Qwen3.6-35B-A3B-4bit", "dev"});
  EXPECT_NE(no_branch.find("no revision 'dev'"), std::string::npos) << no_branch;
  EXPECT_NE(no_branch.find("main, v1"), std::string::npos) << no_branch;
  write(repo / "refs" / "gone", std::string(40, 'a'));
  EXPECT_NE(error_of({"mlx-community/Qwen3.6-35B-A3B-4bit", "gone"}).find("snapshot " + std::string(40, 'a') + " is not in the cache"),
            std::string::npos);
  fs::remove(repo / "snapshots" / kOld / "config.json");
  EXPECT_NE(error_of({"mlx-community/Qwen3.6-35B-A3B-4bit", "v1"}).find("no config.json"), std::string::npos);
}

TEST_F(FakeCache, ARefThatHoldsNoCommitIsAClearError) {
  write(repo / "refs" / "broken", "not a hash");
  EXPECT_THROW(resolve_in_cache({"mlx-community/Qwen3.6-35B-A3B-4bit", "broken"}, root), Error);
}

TEST_F(FakeCache, LocateModelPrefersAnExistingPathThenTheCache) {
  ScopedEnv env;
  env.set("HF_HUB_CACHE", root.string());
  const ModelLocation hub = locate_model("mlx-community/Qwen3.6-35B-A3B-4bit@v1");
  ASSERT_TRUE(hub.from_hub);
  EXPECT_EQ(hub.dir, repo / "snapshots" / kOld);
  EXPECT_EQ(hub.from_hub->revision, "v1");
  // A directory that exists is a path, even when it reads like a repository id.
  fs::create_directories(root / "work" / "mlx-community" / "Qwen3.6-35B-A3B-4bit");
  const fs::path cwd = fs::current_path();
  fs::current_path(root / "work");
  const ModelLocation path = locate_model("mlx-community/Qwen3.6-35B-A3B-4bit");
  fs::current_path(cwd);
  EXPECT_FALSE(path.from_hub);
  EXPECT_EQ(path.dir, fs::path("mlx-community/Qwen3.6-35B-A3B-4bit"));
  EXPECT_THROW(locate_model("/no/such/model/dir"), Error);
}

}  // namespace
}  // namespace hearth::hub
