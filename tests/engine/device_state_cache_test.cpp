// The prompt cache's tiers with a model whose snapshots live in device memory (FakeDeviceOps: the CPU
// backend posing as a device): with a small device budget and a large host budget, checkpoints are
// demoted to host copies through Model::offload_state, persisted ones are written from device memory,
// and every restore — device, host or disk tier — continues exactly as an uncached run.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <unistd.h>

#include "cache/checkpoint_store.h"
#include "cache/prompt_cache.h"
#include "fake_device_ops.h"

namespace hearth::engine {
namespace {

using cache::CheckpointKind;
using cache::CheckpointStore;
using cache::StoreConfig;
using cache::Tier;
using testing::decode_each;
using testing::logits_of;
using testing::Reference;
using testing::tiny_model_dir;
using testing::tiny_model_on_fake_device;

const char* const kHybrid = "moe-hf-bf16-sharded";

// What an uninterrupted run gives at a position: the logits there and those of a few decode steps.
struct Expected {
  std::vector<float> logits;
  std::vector<std::vector<float>> continuation;
};

constexpr int64_t kContinuation = 6;

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("hearth-device-state-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class DeviceSnapshotsInTheStore : public ::testing::Test {
 protected:
  void SetUp() override {
    ref_ = Reference::load(tiny_model_dir(kHybrid));
    dev_ = tiny_model_on_fake_device(kHybrid);
  }
  std::span<const Token> path(int64_t position) const { return std::span<const Token>(ref_.prompt).first(position); }

  // Saves a snapshot at each position into `store`, recording what an uninterrupted run continues with.
  void fill(CheckpointStore& store, const std::vector<int64_t>& positions) {
    Model& m = *dev_.model;
    for (int64_t p : positions) {
      m.reset();
      m.prefill(path(p));
      auto snap = m.save_state();
      ASSERT_GT(snap->device_bytes(), 0u);
      expected_[p] = {logits_of(m), decode_each(m, std::span<const Token>(ref_.prompt).subspan(p, kContinuation))};
      store.insert(path(p), std::move(snap), CheckpointKind::message_end);
    }
  }

  // Finds the checkpoint at `position`, restores it into a model in another state, checks it is exact.
  void expect_exact_restore(CheckpointStore& store, int64_t position, Tier tier) {
    Model& m = *dev_.model;
    auto hit = store.find(path(position), position);
    ASSERT_TRUE(hit) << "position " << position;
    EXPECT_EQ(hit->position, position);
    EXPECT_EQ(hit->tier, tier) << "position " << position;
    EXPECT_EQ(hit->snapshot->device_bytes() > 0, tier == Tier::device) << "position " << position;
    m.reset();
    m.prefill(std::span<const Token>(ref_.prompt).subspan(120, 17));  // something else first
    m.restore_state(*hit->snapshot);
    EXPECT_EQ(m.position(), position);
    EXPECT_EQ(logits_of(m), expected_[position].logits) << "position " << position;
    EXPECT_EQ(decode_each(m, std::span<const Token>(ref_.prompt).subspan(position, kContinuation)),
              expected_[position].continuation)
        << "position " << position;
  }

  size_t snapshot_bytes(int64_t position) {
    Model& m = *dev_.model;
    m.reset();
    m.prefill(path(position));
    return m.save_state()->device_bytes();
  }

  Reference ref_;
  testing::FakeDeviceModel dev_;
  std::map<int64_t, Expected> expected_;
};

TEST_F(DeviceSnapshotsInTheStore, SmallDeviceBudgetDemotesCheckpointsToHostCopiesThatRestoreExactly) {
  const std::vector<int64_t> positions = {20, 50, 80, 110};
  StoreConfig config;
  config.device_budget_bytes = snapshot_bytes(110);  // room for the deepest one alone
  config.host_budget_bytes = size_t(64) << 20;
  CheckpointStore store(*dev_.model, config);
  const size_t live_before = dev_.ops->live_bytes();
  fill(store, positions);

  const cache::StoreStats s = store.stats();
  EXPECT_EQ(s.inserted, positions.size());
  EXPECT_EQ(s.demoted, positions.size() - 1);
  EXPECT_EQ(s.evicted, 0u);
  EXPECT_EQ(s.device_checkpoints, 1u);
  EXPECT_EQ(s.host_checkpoints, positions.size() - 1);
  EXPECT_LE(s.device_bytes, config.device_budget_bytes);
  // Demoted snapshots gave their device memory back: only the one device checkpoint still holds any.
  EXPECT_EQ(dev_.ops->live_bytes(), live_before + s.device_bytes);

  for (int64_t p : {20, 50, 80}) expect_exact_restore(store, p, Tier::host);
  expect_exact_restore(store, 110, Tier::device);
}

TEST_F(DeviceSnapshotsInTheStore, SnapshotLargerThanTheDeviceBudgetIsStoredAsItsHostCopy) {
  StoreConfig config;
  config.device_budget_bytes = 1024;  // smaller than any snapshot
  config.host_budget_bytes = size_t(64) << 20;
  CheckpointStore store(*dev_.model, config);
  fill(store, {40});
  EXPECT_EQ(store.stats().host_checkpoints, 1u);
  EXPECT_EQ(store.stats().device_bytes, 0u);
  expect_exact_restore(store, 40, Tier::host);
}

TEST_F(DeviceSnapshotsInTheStore, PersistedDeviceSnapshotsAreReadBackAfterARestartAndRestoreExactly) {
  TempDir dir;
  StoreConfig config;
  config.device_budget_bytes = size_t(64) << 20;
  config.host_budget_bytes = size_t(64) << 20;
  config.persist.dir = dir.path();
  config.persist.model_identity = "tiny-moe-test";
  config.persist.kinds = cache::PersistKinds::all;
  {
    CheckpointStore store(*dev_.model, config);
    fill(store, {30, 70});
    EXPECT_EQ(store.stats().disk_writes, 2u);
    EXPECT_EQ(store.stats().disk_errors, 0u);
  }
  CheckpointStore restarted(*dev_.model, config);
  EXPECT_EQ(restarted.stats().disk_only_checkpoints, 2u);
  expect_exact_restore(restarted, 70, Tier::disk);
  expect_exact_restore(restarted, 30, Tier::disk);
}

// --- the prompt cache over a conversation ---------------------------------------------------------

// A conversation in the tiny model's vocabulary: a system block (the static prefix), then user
// messages and the model's greedy replies, each message ending at a boundary.
struct Conversation {
  std::vector<Token> tokens;
  cache::PromptLayout layout;

  Conversation(Token first, int64_t length) {
    append(first, length, CheckpointKind::static_prefix);
  }
  void append(Token first, int64_t length, CheckpointKind kind) {
    for (int64_t i = 0; i < length; ++i) tokens.push_back(static_cast<Token>((first + 7 * i) % 500 + 1));
    layout.boundaries.push_back({static_cast<int64_t>(tokens.size()), kind});
  }
  void append_reply(const std::vector<Token>& reply) {
    tokens.insert(tokens.end(), reply.begin(), reply.end());
    layout.boundaries.push_back({static_cast<int64_t>(tokens.size()), CheckpointKind::message_end});
  }
  cache::PromptLayout prompt_layout() const {
    cache::PromptLayout l = layout;
    l.prompt_tokens = static_cast<int64_t>(tokens.size());
    return l;
  }
};

struct TurnResult {
  std::vector<Token> reply;
  std::vector<std::vector<float>> logits;  // after the prompt, then after each reply token
  cache::CacheOutcome outcome;
};

// One request the way the decode loop runs it: prefill pauses at the planned checkpoints, then greedy.
TurnResult run_turn(Model& m, cache::PromptCache& prompt_cache, const Conversation& c) {
  const cache::PromptLayout layout = c.prompt_layout();
  cache::CachedRequest request = prompt_cache.begin(c.tokens, layout);
  const std::span<const Token> all(c.tokens);
  int64_t pos = m.position();
  for (int64_t cp : request.checkpoint_positions()) {
    m.prefill(all.subspan(static_cast<size_t>(pos), static_cast<size_t>(cp - pos)));
    request.at_checkpoint(cp);
    pos = cp;
  }
  if (pos < static_cast<int64_t>(all.size())) m.prefill(all.subspan(static_cast<size_t>(pos)));
  TurnResult r;
  r.logits.push_back(logits_of(m));
  for (int i = 0; i < 5; ++i) {
    const auto l = m.logits();
    const Token next = static_cast<Token>(std::max_element(l.begin(), l.end()) - l.begin());
    r.reply.push_back(next);
    m.prefill(std::span(&next, 1));
    r.logits.push_back(logits_of(m));
  }
  request.finish(r.reply, {cache::GenerationStop::end_of_turn, 1, false});
  r.outcome = request.outcome();
  return r;
}

// Six turns of a conversation, each followed by a side request (another system prompt) that takes
// over the live sequence, so every later turn must resume from a stored checkpoint.
std::vector<TurnResult> play(Model& m, cache::PromptCache& prompt_cache) {
  Conversation main(11, 40);
  std::vector<TurnResult> results;
  for (int turn = 0; turn < 6; ++turn) {
    main.append(100 + 13 * turn, 12 + 3 * turn, CheckpointKind::user_query_end);
    results.push_back(run_turn(m, prompt_cache, main));
    main.append_reply(results.back().reply);
    Conversation side(300 + turn, 100);
    side.append(400, 8, CheckpointKind::user_query_end);
    run_turn(m, prompt_cache, side);
  }
  return results;
}

// The cache resumes mid-prompt, so its prefill is chunked differently from an uncached run's and the
// logits may differ in the last bits (chunked delta rule); the same cache over host snapshots (CPU
// backend) makes the same resumes, so that run must match bit for bit.
TEST(DeviceSnapshotsInThePromptCache, ConversationWithDemotedCheckpointsMatchesHostSnapshotsExactly) {
  auto device = tiny_model_on_fake_device(kHybrid, 512);
  auto host = testing::tiny_model_on(kHybrid, std::make_unique<cpu::CpuOps>(2), 512);
  auto uncached = testing::tiny_model_on(kHybrid, std::make_unique<cpu::CpuOps>(2), 512);
  cache::PromptCacheConfig on;
  on.plan.min_gap = 8;
  // Room on the "device" for about one snapshot of either conversation (the side request's push the
  // main conversation's to the host); plenty of host memory.
  on.store.device_budget_bytes = size_t(200) << 10;
  on.store.host_budget_bytes = size_t(64) << 20;
  cache::PromptCacheConfig off = on;
  off.enabled = false;
  cache::PromptCache device_cache(*device.model, on), host_cache(*host, on), no_cache(*uncached, off);

  const auto d = play(*device.model, device_cache);
  const auto h = play(*host, host_cache);
  const auto u = play(*uncached, no_cache);
  ASSERT_EQ(d.size(), h.size());
  ASSERT_EQ(d.size(), u.size());
  int host_resumes = 0;
  int64_t reused = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    EXPECT_EQ(d[i].reply, h[i].reply) << "turn " << i;
    EXPECT_EQ(d[i].logits, h[i].logits) << "turn " << i;
    EXPECT_EQ(d[i].outcome.reused_tokens, h[i].outcome.reused_tokens) << "turn " << i;
    EXPECT_EQ(d[i].reply, u[i].reply) << "turn " << i;
    for (size_t j = 0; j < d[i].logits.size(); ++j) {
      EXPECT_LT(testing::relative_error(d[i].logits[j].data(), u[i].logits[j].data(), d[i].logits[j].size()), 1e-5)
          << "turn " << i << " step " << j;
    }
    host_resumes += d[i].outcome.source == cache::ResumeSource::host;
    reused += d[i].outcome.reused_tokens;
  }
  const cache::StoreStats s = device_cache.stats();
  EXPECT_GT(s.demoted, 0u);
  EXPECT_EQ(s.evicted, 0u);
  EXPECT_GT(host_resumes, 0) << "no turn resumed from a demoted checkpoint";
  EXPECT_GT(reused, 0);
  EXPECT_LE(s.device_bytes, on.store.device_budget_bytes);
  EXPECT_EQ(host_cache.stats().device_bytes, 0u);  // host snapshots never count on the device tier
}

}  // namespace
}  // namespace hearth::engine
