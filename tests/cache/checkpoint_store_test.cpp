#include "cache/checkpoint_store.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "fake_model.h"

namespace hearth::cache {
namespace {

using testing::FakeModel;
using testing::FakeModelOptions;
using testing::FakeSnapshot;
using testing::snapshot_of;
using Path = std::vector<Token>;

Path iota_path(int64_t n, Token start = 1) {
  Path p;
  for (int64_t i = 0; i < n; ++i) p.push_back(start + static_cast<Token>(i));
  return p;
}

Path extend(Path base, std::initializer_list<Token> more) {
  base.insert(base.end(), more);
  return base;
}

StoreConfig budgets(size_t device, size_t host) {
  StoreConfig c;
  c.device_budget_bytes = device;
  c.host_budget_bytes = host;
  return c;
}

bool holds(const CheckpointStore& store, int64_t position) {
  for (const auto& info : store.list())
    if (info.position == position) return true;
  return false;
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("hearth-cache-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(CheckpointStore, FindReturnsTheDeepestCheckpointThatIsAPrefixOfThePrompt) {
  FakeModel model;
  CheckpointStore store(model, budgets(1 << 20, 1 << 20));
  Path a = iota_path(10);
  Path b = iota_path(20);
  Path c = extend(iota_path(15), {99, 98});
  for (const Path& p : {a, b, c}) store.insert(p, snapshot_of(model, p), CheckpointKind::message_end);

  auto hit = store.find(extend(iota_path(25), {}), 1000);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->position, 20);
  EXPECT_EQ(dynamic_cast<const FakeSnapshot&>(*hit->snapshot).tokens, b);
  EXPECT_EQ(hit->tier, Tier::device);

  // Diverges at token 16 of c's path and at token 15 of b's: only a (10 tokens) is a prefix.
  Path diverging = extend(iota_path(15), {99, 0});
  hit = store.find(diverging, 1000);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->position, 10);

  EXPECT_FALSE(store.find(Path{5, 6, 7}, 1000));
}

TEST(CheckpointStore, FindNeverReturnsACheckpointBeyondMaxPosition) {
  FakeModel model;
  CheckpointStore store(model, budgets(1 << 20, 1 << 20));
  Path p = iota_path(8);
  store.insert(p, snapshot_of(model, p), CheckpointKind::prompt_end);
  EXPECT_FALSE(store.find(p, 7));  // the prompt itself: one token must remain to produce logits
  EXPECT_TRUE(store.find(p, 8));
}

TEST(CheckpointStore, SnapshotNotCoveringItsPathIsAnInternalError) {
  FakeModel model;
  CheckpointStore store(model, budgets(1 << 20, 1 << 20));
  EXPECT_THROW(store.insert(iota_path(5), snapshot_of(model, iota_path(4)), CheckpointKind::message_end), Error);
}

TEST(CheckpointStore, FullDeviceBudgetDemotesTheVictimToTheHostTier) {
  FakeModel model({.device_bytes = 100, .offloaded_bytes = 100});
  CheckpointStore store(model, budgets(200, 1000));
  for (int i = 0; i < 3; ++i) {
    Path p = iota_path(10, 100 * i);
    store.insert(p, snapshot_of(model, p), CheckpointKind::message_end);
  }
  StoreStats s = store.stats();
  EXPECT_EQ(s.device_checkpoints, 2u);
  EXPECT_EQ(s.host_checkpoints, 1u);
  EXPECT_EQ(s.demoted, 1u);
  EXPECT_EQ(s.evicted, 0u);
  EXPECT_LE(s.device_bytes, 200u);
  // The demoted one (the least recently used: the first) is found on the host tier and still exact.
  auto hit = store.find(extend(iota_path(10, 0), {7}), 100);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->tier, Tier::host);
  EXPECT_EQ(dynamic_cast<const FakeSnapshot&>(*hit->snapshot).tokens, iota_path(10, 0));
}

TEST(CheckpointStore, ModelThatCannotOffloadLosesTheVictimInsteadOfDemotingIt) {
  FakeModel model({.device_bytes = 100, .can_offload = false});
  CheckpointStore store(model, budgets(200, 1000));
  for (int i = 0; i < 3; ++i) {
    Path p = iota_path(10, 100 * i);
    store.insert(p, snapshot_of(model, p), CheckpointKind::message_end);
  }
  StoreStats s = store.stats();
  EXPECT_EQ(s.device_checkpoints, 2u);
  EXPECT_EQ(s.host_checkpoints, 0u);
  EXPECT_EQ(s.evicted, 1u);
  EXPECT_FALSE(store.find(extend(iota_path(10, 0), {7}), 100));
}

TEST(CheckpointStore, SnapshotLargerThanTheDeviceBudgetGoesStraightToTheHostTier) {
  FakeModel model({.device_bytes = 500, .offloaded_bytes = 400});
  CheckpointStore store(model, budgets(100, 1000));
  Path p = iota_path(6);
  EXPECT_EQ(store.insert(p, snapshot_of(model, p), CheckpointKind::message_end), InsertOutcome::stored);
  EXPECT_EQ(store.stats().host_checkpoints, 1u);
  EXPECT_EQ(store.stats().device_bytes, 0u);
}

TEST(CheckpointStore, SnapshotLargerThanBothBudgetsIsRejectedAndLeavesNoTrace) {
  FakeModel model({.device_bytes = 500, .offloaded_bytes = 400});
  CheckpointStore store(model, budgets(100, 100));
  Path p = iota_path(6);
  EXPECT_EQ(store.insert(p, snapshot_of(model, p), CheckpointKind::message_end), InsertOutcome::rejected);
  StoreStats s = store.stats();
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(s.tree_nodes, 0u);
  EXPECT_FALSE(store.find(p, 100));
}

TEST(CheckpointStore, ShadowedCheckpointIsEvictedBeforeTheSharedPrefixCheckpoint) {
  // Device only (no host tier): eviction drops.
  FakeModel model({.device_bytes = 100, .can_offload = false});
  CheckpointStore store(model, budgets(300, 0));
  Path system = iota_path(50);
  Path conv_a_turn1 = extend(system, {1000, 1001});
  Path conv_a_turn2 = extend(conv_a_turn1, {1002, 1003});
  // Inserted oldest first: the static prefix is the least recently used of the three.
  store.insert(system, snapshot_of(model, system), CheckpointKind::message_end);
  store.insert(conv_a_turn1, snapshot_of(model, conv_a_turn1), CheckpointKind::message_end);
  store.insert(conv_a_turn2, snapshot_of(model, conv_a_turn2), CheckpointKind::message_end);
  // A second conversation makes the system checkpoint a branch point.
  Path conv_b = extend(system, {2000, 2001, 2002});
  store.insert(conv_b, snapshot_of(model, conv_b), CheckpointKind::message_end);
  // Over budget by one: conv_a_turn1 is shadowed by conv_a_turn2 on a non-branching path, so it goes
  // although the system checkpoint is older.
  EXPECT_TRUE(holds(store, 50));
  EXPECT_FALSE(holds(store, 52));
  EXPECT_TRUE(holds(store, 54));
  EXPECT_TRUE(holds(store, 53));
  EXPECT_EQ(store.stats().device_bytes, 300u);
}

TEST(CheckpointStore, AnchorKindIsKeptOverAYoungerShadowedCheckpoint) {
  FakeModel model({.device_bytes = 100, .can_offload = false});
  CheckpointStore store(model, budgets(200, 0));
  Path system = iota_path(40);
  Path turn = extend(system, {7, 8, 9});
  Path turn2 = extend(turn, {10});
  store.insert(system, snapshot_of(model, system), CheckpointKind::static_prefix);
  store.insert(turn, snapshot_of(model, turn), CheckpointKind::message_end);
  store.insert(turn2, snapshot_of(model, turn2), CheckpointKind::message_end);
  // system (anchor, shadowed) vs turn (shadowed): turn goes.
  EXPECT_TRUE(holds(store, 40));
  EXPECT_FALSE(holds(store, 43));
  EXPECT_TRUE(holds(store, 44));
}

TEST(CheckpointStore, StaleCheckpointOfAnAbandonedConversationGoesBeforeRecentOnes) {
  FakeModel model({.device_bytes = 100, .can_offload = false});
  StoreConfig config = budgets(300, 0);
  config.protection_ticks = 4;
  CheckpointStore store(model, config);
  Path old_conv = iota_path(100, 5000);
  store.insert(old_conv, snapshot_of(model, old_conv), CheckpointKind::static_prefix);  // anchor, leaf
  // Twenty ticks of activity in another conversation.
  Path live = iota_path(10, 1);
  for (int i = 0; i < 20; ++i) {
    live.push_back(900 + i);
    store.insert(live, snapshot_of(model, live), CheckpointKind::message_end);
  }
  EXPECT_FALSE(holds(store, 100));  // anchor protection (2 x 4 ticks) is long expired
  EXPECT_EQ(store.stats().device_checkpoints, 3u);
}

TEST(CheckpointStore, ReleasingPagesDropsTheCheckpointEvictionWouldPickFirstWithoutDemotingIt) {
  FakeModel model({.device_bytes = 100, .snapshots_hold_pages = true});
  CheckpointStore store(model, budgets(10000, 10000));
  const Path a = iota_path(10, 1), b = iota_path(20, 100), c = iota_path(30, 300);
  store.insert(a, snapshot_of(model, a), CheckpointKind::message_end);
  store.insert(b, snapshot_of(model, b), CheckpointKind::message_end);
  store.insert(c, snapshot_of(model, c), CheckpointKind::message_end);
  ASSERT_TRUE(store.find(a, 10));  // a is used again: b is now the least recently used
  EXPECT_TRUE(store.release_pages());
  EXPECT_TRUE(holds(store, 10));
  EXPECT_FALSE(holds(store, 20));
  EXPECT_TRUE(holds(store, 30));
  EXPECT_EQ(store.stats().demoted, 0u);
  EXPECT_EQ(store.stats().page_releases, 1u);
  EXPECT_EQ(store.stats().host_checkpoints, 0u);
  EXPECT_TRUE(store.release_pages());
  EXPECT_TRUE(store.release_pages());
  EXPECT_FALSE(store.release_pages());  // nothing left that holds pages
}

TEST(CheckpointStore, CheckpointsWithoutPagesAreNeverReleasedForPages) {
  FakeModel model({.device_bytes = 100});  // snapshots_hold_pages false
  CheckpointStore store(model, budgets(10000, 10000));
  const Path a = iota_path(10, 1);
  store.insert(a, snapshot_of(model, a), CheckpointKind::message_end);
  EXPECT_FALSE(store.release_pages());
  EXPECT_TRUE(holds(store, 10));
}

TEST(CheckpointStore, HitRefreshesTheCheckpointAndThoseAboveIt) {
  FakeModel model({.device_bytes = 100, .can_offload = false});
  StoreConfig config = budgets(300, 0);
  config.protection_ticks = 0;  // plain LRU, to see the refresh alone
  CheckpointStore store(model, config);
  Path a = iota_path(5);
  Path a2 = extend(a, {50});
  Path b = iota_path(5, 100);
  store.insert(a, snapshot_of(model, a), CheckpointKind::message_end);
  store.insert(a2, snapshot_of(model, a2), CheckpointKind::message_end);
  store.insert(b, snapshot_of(model, b), CheckpointKind::message_end);
  ASSERT_TRUE(store.find(extend(a2, {1}), 100));  // refreshes a2 and a
  Path c = iota_path(5, 200);
  store.insert(c, snapshot_of(model, c), CheckpointKind::message_end);
  EXPECT_TRUE(holds(store, 5) && holds(store, 6));
  EXPECT_EQ(store.list().size(), 3u);
  EXPECT_FALSE(store.find(extend(b, {1}), 100));
}

TEST(CheckpointStore, RandomWorkloadNeverExceedsEitherBudgetAndEveryHitIsExact) {
  std::mt19937 rng(7);
  FakeModel model({.device_bytes = 300, .host_bytes = 10, .offloaded_bytes = 200});
  CheckpointStore store(model, budgets(1000, 1500));
  std::vector<Path> bases;
  for (int i = 0; i < 4; ++i) bases.push_back(iota_path(20 + i * 5, 1000 * i));
  for (int step = 0; step < 400; ++step) {
    Path p = bases[rng() % bases.size()];
    int extra = static_cast<int>(rng() % 12);
    for (int k = 0; k < extra; ++k) p.push_back(static_cast<Token>(rng() % 4));
    if (rng() % 3 == 0) {
      auto hit = store.find(p, static_cast<int64_t>(p.size()));
      if (hit) {
        const auto& tokens = dynamic_cast<const FakeSnapshot&>(*hit->snapshot).tokens;
        ASSERT_LE(tokens.size(), p.size());
        ASSERT_TRUE(std::equal(tokens.begin(), tokens.end(), p.begin())) << "a hit that is not a prefix";
      }
    } else {
      store.insert(p, snapshot_of(model, p), CheckpointKind::message_end);
    }
    StoreStats s = store.stats();
    ASSERT_LE(s.device_bytes, 1000u) << "step " << step;
    ASSERT_LE(s.host_bytes, 1500u) << "step " << step;
  }
  EXPECT_GT(store.stats().demoted, 0u);
  EXPECT_GT(store.stats().evicted, 0u);
}

TEST(CheckpointStore, PersistedStaticPrefixSurvivesARestartAndIsReadBackOnFirstHit) {
  TempDir dir;
  FakeModel model({.device_bytes = 100, .offloaded_bytes = 80});
  StoreConfig config = budgets(1000, 1000);
  config.persist.dir = dir.path();
  config.persist.model_identity = "fake-weights-1";
  Path system = iota_path(64);
  Path turn = extend(system, {1, 2, 3});
  {
    CheckpointStore store(model, config);
    store.insert(system, snapshot_of(model, system), CheckpointKind::static_prefix);
    store.insert(turn, snapshot_of(model, turn), CheckpointKind::message_end);  // not persisted by default
    EXPECT_EQ(store.stats().disk_writes, 1u);
  }
  CheckpointStore restarted(model, config);
  EXPECT_EQ(restarted.stats().disk_only_checkpoints, 1u);
  auto hit = restarted.find(extend(turn, {4}), 100);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->position, 64);
  EXPECT_EQ(hit->tier, Tier::disk);
  EXPECT_EQ(dynamic_cast<const FakeSnapshot&>(*hit->snapshot).tokens, system);
  // Read once, then held in memory (host tier).
  auto again = restarted.find(extend(turn, {4}), 100);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->tier, Tier::host);
  EXPECT_EQ(restarted.stats().disk_reads, 1u);
}

TEST(CheckpointStore, PersistedCheckpointsOfAnotherModelAreIgnored) {
  TempDir dir;
  FakeModel model;
  StoreConfig config = budgets(1000, 1000);
  config.persist.dir = dir.path();
  config.persist.model_identity = "weights-A";
  Path system = iota_path(16);
  {
    CheckpointStore store(model, config);
    store.insert(system, snapshot_of(model, system), CheckpointKind::static_prefix);
  }
  config.persist.model_identity = "weights-B";
  CheckpointStore other(model, config);
  EXPECT_FALSE(other.find(extend(system, {1}), 100));
  EXPECT_TRUE(other.warnings().empty());
}

TEST(CheckpointStore, CorruptCheckpointFileIsSkippedWithAWarning) {
  TempDir dir;
  FakeModel model;
  StoreConfig config = budgets(1000, 1000);
  config.persist.dir = dir.path();
  config.persist.model_identity = "weights";
  Path system = iota_path(16);
  {
    CheckpointStore store(model, config);
    store.insert(system, snapshot_of(model, system), CheckpointKind::static_prefix);
  }
  std::ofstream(dir.path() / "0000000000000000.ckpt", std::ios::binary) << "garbage";
  // Truncate the real checkpoint so that the header reads but the state and trailer do not.
  std::filesystem::path real = dir.path() / DiskStore::file_name("weights", system);
  std::filesystem::resize_file(real, std::filesystem::file_size(real) - 4);
  CheckpointStore store(model, config);
  ASSERT_EQ(store.warnings().size(), 2u);  // the garbage file, and the truncated one
  bool truncated_named = false;
  for (const std::string& w : store.warnings()) truncated_named |= w.find("truncated checkpoint") != std::string::npos;
  EXPECT_TRUE(truncated_named);
  EXPECT_FALSE(store.find(extend(system, {1}), 100));  // never listed: a miss
  EXPECT_EQ(store.stats().disk_reads, 0u);
  EXPECT_FALSE(std::filesystem::exists(real));  // the truncated file is removed at start-up
}

TEST(CheckpointStore, CheckpointWithADamagedStateIsRefusedAtItsFirstHit) {
  TempDir dir;
  FakeModel model;
  StoreConfig config = budgets(1000, 1000);
  config.persist.dir = dir.path();
  config.persist.model_identity = "weights";
  Path system = iota_path(16);
  {
    CheckpointStore store(model, config);
    store.insert(system, snapshot_of(model, system), CheckpointKind::static_prefix);
  }
  // Flip one bit of the state's hash (the fake model's serialisation ends with it, before the trailer):
  // the state still parses, so only the checksum can tell.
  std::filesystem::path real = dir.path() / DiskStore::file_name("weights", system);
  {
    std::fstream f(real, std::ios::binary | std::ios::in | std::ios::out);
    f.seekg(-17, std::ios::end);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x10;
    f.seekp(-17, std::ios::end);
    f.write(&c, 1);
  }
  CheckpointStore store(model, config);
  EXPECT_TRUE(store.warnings().empty());  // the trailer is there: listed
  EXPECT_FALSE(store.find(extend(system, {1}), 100));
  EXPECT_EQ(store.stats().disk_errors, 1u);
  ASSERT_EQ(store.warnings().size(), 1u);
  EXPECT_NE(store.warnings()[0].find("checksum mismatch"), std::string::npos) << store.warnings()[0];
  EXPECT_FALSE(std::filesystem::exists(real));  // the unreadable file is removed
}

TEST(CheckpointStore, AbandonedTemporaryFilesAreDeletedAtStartUp) {
  TempDir dir;
  FakeModel model;
  StoreConfig config = budgets(1000, 1000);
  config.persist.dir = dir.path();
  config.persist.model_identity = "weights";
  // pid 0x7ffffffe: no such process (pid_max is at most 2^22); our own pid: a live writer's file.
  const std::filesystem::path dead = dir.path() / "0123456789abcdef.ckpt.2147483646.tmp";
  const std::filesystem::path live = dir.path() / ("0123456789abcdef.ckpt." + std::to_string(getpid()) + ".tmp");
  std::filesystem::create_directories(dir.path());
  std::ofstream(dead) << "half";
  std::ofstream(live) << "half";
  CheckpointStore store(model, config);
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(store.warnings().empty());
}

TEST(CheckpointStore, ModelWithoutSerializationStillCachesInMemory) {
  TempDir dir;
  FakeModel model({.can_serialize = false});
  StoreConfig config = budgets(100000, 100000);
  config.persist.dir = dir.path();
  config.persist.model_identity = "w";
  CheckpointStore store(model, config);
  for (int i = 0; i < 3; ++i) {
    Path p = iota_path(8, 100 * i);
    EXPECT_EQ(store.insert(p, snapshot_of(model, p), CheckpointKind::static_prefix), InsertOutcome::stored);
  }
  EXPECT_EQ(store.stats().disk_errors, 1u);  // tried once, then not again
  EXPECT_EQ(store.stats().device_checkpoints, 3u);
}

TEST(CheckpointStore, DiskBudgetDeletesTheLeastRecentlyUsedFiles) {
  TempDir dir;
  FakeModel model;
  StoreConfig config = budgets(100000, 100000);
  config.persist.dir = dir.path();
  config.persist.model_identity = "w";
  config.persist.kinds = PersistKinds::all;
  Path probe = iota_path(10, 0);
  {
    CheckpointStore store(model, config);
    store.insert(probe, snapshot_of(model, probe), CheckpointKind::message_end);
    size_t one_file = store.stats().disk_bytes;
    ASSERT_GT(one_file, 0u);
    std::filesystem::remove_all(dir.path());
    config.persist.disk_budget_bytes = 2 * one_file;
  }
  CheckpointStore store(model, config);
  for (int i = 0; i < 4; ++i) {
    Path p = iota_path(10, 100 * i);
    store.insert(p, snapshot_of(model, p), CheckpointKind::message_end);
  }
  EXPECT_LE(store.stats().disk_bytes, config.persist.disk_budget_bytes);
  size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) files += f.path().extension() == ".ckpt";
  EXPECT_EQ(files, 2u);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / DiskStore::file_name("w", iota_path(10, 300))));
}

TEST(CheckpointStore, HostKvPagesOnlyCheckpointsHoldCountAgainstTheHostBudget) {
  // A CPU model: snapshots of 100 host bytes, each keeping 150 bytes of KV pages nobody else maps.
  FakeModel model({.device_bytes = 0, .offloaded_bytes = 100});
  model.host_page_bytes_per_snapshot = 150;
  const int64_t live_before = FakeSnapshot::live;
  CheckpointStore store(model, budgets(0, 1000));
  for (int i = 0; i < 6; ++i) {
    Path p = iota_path(8, 100 * i);
    store.insert(p, snapshot_of(model, p), CheckpointKind::message_end);
    EXPECT_LE(store.stats().host_bytes, 1000u) << "after insert " << i;
  }
  // 250 bytes each with its pages: four fit, not six.
  EXPECT_EQ(store.stats().host_checkpoints, 4u);
  EXPECT_EQ(store.stats().host_page_bytes, 150u * static_cast<size_t>(FakeSnapshot::live - live_before));
  // Pages that become the cache's alone outside an insert (a slot moved on) are trimmed away.
  model.host_page_bytes_per_snapshot = 400;
  store.trim();
  EXPECT_LE(store.stats().host_bytes, 1000u);
  EXPECT_EQ(store.stats().host_checkpoints, 2u);
}

TEST(CheckpointStore, PersistenceWithoutModelIdentityIsRefused) {
  FakeModel model;
  StoreConfig config = budgets(1, 1);
  config.persist.dir = std::filesystem::temp_directory_path();
  EXPECT_THROW({ CheckpointStore store(model, config); }, Error);
}

}  // namespace
}  // namespace hearth::cache
