// State snapshots on the real CUDA backend (label "gpu"; skipped without a device): they live in device
// memory and give it back when destroyed, restore bit-identically (with graph-replayed decode steps
// after the restore), offload to an identical host copy, and serve the prompt cache's device -> host
// demotion exactly. device_state_test.cpp checks the same paths on the CPU through a fake device.
#include <gtest/gtest.h>

#include <sstream>

#include "cache/checkpoint_store.h"
#include "engine/cuda/cuda_ops.h"
#include "engine/loader.h"
#include "fake_device_ops.h"

namespace hearth::engine {
namespace {

using testing::decode_each;
using testing::logits_of;
using testing::Reference;
using testing::tiny_model_dir;

const char* const kHybrid = "moe-hf-bf16-sharded";

class CudaStateSnapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda::device_available()) GTEST_SKIP() << "no CUDA device";
    ref_ = Reference::load(tiny_model_dir(kHybrid));
    LoadOptions o;
    o.model_dir = tiny_model_dir(kHybrid);
    o.max_context = 512;
    o.device = Device::cuda;
    model_ = load_model(o);
    qwen_ = dynamic_cast<Qwen35Model*>(model_.get());
    ASSERT_NE(qwen_, nullptr);
    ops_ = dynamic_cast<cuda::CudaOps*>(&qwen_->ops());
    ASSERT_NE(ops_, nullptr);
  }
  std::span<const Token> prompt() const { return ref_.prompt; }
  const Qwen35Snapshot& as_qwen(const StateSnapshot& s) { return dynamic_cast<const Qwen35Snapshot&>(s); }

  Reference ref_;
  std::unique_ptr<Model> model_;
  Qwen35Model* qwen_ = nullptr;
  cuda::CudaOps* ops_ = nullptr;
};

TEST_F(CudaStateSnapshot, LivesInDeviceMemoryThatIsGivenBackWhenItIsDestroyed) {
  model_->prefill(prompt().first(100));
  const size_t before = ops_->memory_stats().allocations;
  auto snap = model_->save_state();
  // Its own memory is the recurrent state and the logits; the KV rows stay in the shared pages.
  EXPECT_EQ(snap->device_bytes(), testing::expected_snapshot_bytes(qwen_->config(), 0));
  EXPECT_TRUE(model_->holds_pages(*snap));
  EXPECT_EQ(snap->host_bytes(), 0u);
  EXPECT_EQ(ops_->memory_stats().allocations, before + snap->device_bytes());
  snap.reset();
  EXPECT_EQ(ops_->memory_stats().allocations, before);
}

TEST_F(CudaStateSnapshot, RestoreContinuesBitIdenticallyThroughGraphReplayedDecodeSteps) {
  model_->prefill(prompt().first(100));
  auto snap = model_->save_state();
  const std::vector<float> at_save = logits_of(*model_);
  const auto continuation = decode_each(*model_, prompt().subspan(100, 20));
  model_->reset();
  model_->prefill(prompt().subspan(40, 50));  // diverge
  model_->restore_state(*snap);
  EXPECT_EQ(model_->position(), 100);
  EXPECT_EQ(logits_of(*model_), at_save);
  EXPECT_EQ(decode_each(*model_, prompt().subspan(100, 20)), continuation);
}

TEST_F(CudaStateSnapshot, OffloadedAndSerialisedCopiesEqualTheDeviceSnapshotAndRestoreExactly) {
  model_->prefill(prompt().first(80));
  auto snap = model_->save_state();
  auto host = model_->offload_state(*snap);
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->device_bytes(), 0u);
  EXPECT_EQ(host->host_bytes(), testing::expected_snapshot_bytes(qwen_->config(), 80));  // KV rows included
  EXPECT_EQ(as_qwen(*host).flat(), as_qwen(*snap).flat());
  EXPECT_EQ(model_->offload_state(*host), nullptr);
  std::stringstream from_device, from_host;
  model_->serialize_state(*snap, from_device);
  model_->serialize_state(*host, from_host);
  EXPECT_EQ(from_device.str(), from_host.str());
  const auto continuation = decode_each(*model_, prompt().subspan(80, 12));

  model_->reset();
  model_->restore_state(*host);
  EXPECT_EQ(decode_each(*model_, prompt().subspan(80, 12)), continuation);
  model_->reset();
  model_->restore_state(*model_->deserialize_state(from_device));
  EXPECT_EQ(decode_each(*model_, prompt().subspan(80, 12)), continuation);
}

TEST_F(CudaStateSnapshot, StoreWithASmallDeviceBudgetDemotesToHostCopiesThatRestoreExactly) {
  const std::vector<int64_t> positions = {30, 60, 90};
  cache::StoreConfig config;
  config.device_budget_bytes = testing::expected_snapshot_bytes(qwen_->config(), 0);  // one paged snapshot
  config.host_budget_bytes = size_t(64) << 20;
  cache::CheckpointStore store(*model_, config);
  std::vector<std::vector<std::vector<float>>> continuations;
  for (int64_t p : positions) {
    model_->reset();
    model_->prefill(prompt().first(p));
    auto snap = model_->save_state();
    continuations.push_back(decode_each(*model_, prompt().subspan(p, 8)));
    store.insert(prompt().first(p), std::move(snap), cache::CheckpointKind::message_end);
  }
  EXPECT_EQ(store.stats().demoted, 2u);
  EXPECT_EQ(store.stats().device_checkpoints, 1u);
  for (size_t i = 0; i < positions.size(); ++i) {
    auto hit = store.find(prompt().first(positions[i]), positions[i]);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->tier, i + 1 < positions.size() ? cache::Tier::host : cache::Tier::device);
    model_->reset();
    model_->restore_state(*hit->snapshot);
    EXPECT_EQ(decode_each(*model_, prompt().subspan(positions[i], 8)), continuations[i]) << "position " << positions[i];
  }
}

}  // namespace
}  // namespace hearth::engine
