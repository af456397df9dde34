// State snapshots on a device backend (qwen35_state.h), checked on the CPU through FakeDeviceOps: a
// snapshot shares the sequence's KV pages and copies only the recurrent state (device-to-device), holds
// exactly the floats of a host snapshot of the same sequence, is offloaded to an identical host copy,
// and every form of it (paged, offloaded, serialised) restores to bit-identical logits and continuation.
#include <gtest/gtest.h>

#include <sstream>

#include "fake_device_ops.h"
#include "util/error.h"

namespace hearth::engine {
namespace {

using testing::decode_each;
using testing::FakeDeviceModel;
using testing::logits_of;
using testing::MemoryTraffic;
using testing::Reference;
using testing::tiny_model_dir;
using testing::tiny_model_on;
using testing::tiny_model_on_fake_device;

const char* const kHybrid = "moe-hf-bf16-sharded";  // linear and full attention layers

// One copy per K, V, conv and recurrent part (a host snapshot's restore).
int64_t parts(const ModelConfig& c) { return 2 * static_cast<int64_t>(c.layer_types.size()); }
int64_t full_layers(const ModelConfig& c) {
  int64_t full = 0;
  for (LayerKind kind : c.layer_types) full += kind == LayerKind::full_attention;
  return full;
}
// The copies of a paged snapshot: conv and recurrent state of each linear-attention layer.
int64_t state_parts(const ModelConfig& c) { return 2 * (static_cast<int64_t>(c.layer_types.size()) - full_layers(c)); }

const Qwen35Snapshot& as_qwen(const StateSnapshot& s) { return dynamic_cast<const Qwen35Snapshot&>(s); }

class DeviceSnapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    ref_ = Reference::load(tiny_model_dir(kHybrid));
    dev_ = tiny_model_on_fake_device(kHybrid);
  }
  std::span<const Token> prompt() const { return ref_.prompt; }
  Qwen35Model& model() { return *dev_.model; }
  MemoryTraffic& traffic() { return dev_.ops->traffic; }

  Reference ref_;
  FakeDeviceModel dev_;
};

TEST_F(DeviceSnapshot, SharesTheKvPagesAndCopiesOnlyTheRecurrentStateIntoOneAllocation) {
  model().prefill(prompt().first(60));
  traffic() = {};
  auto snap = model().save_state();
  const ModelConfig& c = model().config();
  EXPECT_EQ(traffic().downloads, 0);
  EXPECT_EQ(traffic().uploads, 0);  // the logits live on the device too: nothing crosses the bus
  EXPECT_EQ(traffic().allocs, 1);
  EXPECT_EQ(traffic().copies, state_parts(c) + 1);  // + the logits
  EXPECT_EQ(traffic().copy_bytes, testing::expected_snapshot_bytes(c, 0));
  EXPECT_EQ(snap->position(), 60);
  EXPECT_EQ(snap->device_bytes(), testing::expected_snapshot_bytes(c, 0));  // no KV rows of its own
  EXPECT_EQ(snap->host_bytes(), 0u);
  EXPECT_EQ(as_qwen(*snap).memory(), SnapshotMemory::device);
  EXPECT_TRUE(model().holds_pages(*snap));
  EXPECT_EQ(as_qwen(*snap).pages(), std::vector<PageId>(model().slot_state(0).kv().pages().begin(),
                                                       model().slot_state(0).kv().pages().begin() +
                                                           model().kv_pool().geometry().pages_for(60)));
}

TEST_F(DeviceSnapshot, HoldsExactlyTheFloatsOfAHostSnapshotOfTheSameSequence) {
  auto host_model = tiny_model_on(kHybrid, std::make_unique<cpu::CpuOps>(2));
  model().prefill(prompt().first(45));
  host_model->prefill(prompt().first(45));
  auto on_device = model().save_state();
  auto on_host = host_model->save_state();
  EXPECT_EQ(on_host->device_bytes(), 0u);
  EXPECT_EQ(on_host->host_bytes(), on_device->device_bytes());
  EXPECT_EQ(as_qwen(*on_device).flat(), as_qwen(*on_host).flat());
}

TEST_F(DeviceSnapshot, CostsTheRecurrentStateWhateverThePositionWhileItsFloatsCoverThePosition) {
  model().prefill(prompt().first(10));
  auto at10 = model().save_state();
  model().prefill(prompt().subspan(10, 30));
  auto at40 = model().save_state();
  const ModelConfig& c = model().config();
  const size_t kv_row_floats = static_cast<size_t>(c.num_kv_heads * c.head_dim);
  EXPECT_EQ(at40->device_bytes(), at10->device_bytes());
  EXPECT_EQ(as_qwen(*at40).flat().size() - as_qwen(*at10).flat().size(), 2 * static_cast<size_t>(full_layers(c)) * 30 * kv_row_floats);
}

TEST_F(DeviceSnapshot, RestoreIsDeviceCopiesPlusTheLogitsAndContinuesBitIdentically) {
  model().prefill(prompt().first(100));
  auto snap = model().save_state();
  const std::vector<float> at_save = logits_of(model());
  const auto continuation = decode_each(model(), prompt().subspan(100, 20));

  model().reset();
  model().prefill(prompt().subspan(50, 30));  // diverge
  traffic() = {};
  model().restore_state(*snap);
  EXPECT_EQ(traffic().uploads, 0);
  EXPECT_EQ(traffic().copies, state_parts(model().config()) + 1);  // the KV pages are mapped, not copied; + the logits
  EXPECT_EQ(traffic().downloads, 0);  // the logits stay on the device until asked for
  EXPECT_EQ(model().position(), 100);
  EXPECT_EQ(logits_of(model()), at_save);
  EXPECT_EQ(traffic().downloads, 1);  // logits() made the host copy
  EXPECT_EQ(traffic().download_bytes, sizeof(float) * static_cast<size_t>(model().config().vocab_size));
  EXPECT_EQ(decode_each(model(), prompt().subspan(100, 20)), continuation);

  // The snapshot is unchanged by the decoding after it: a second restore gives the same again.
  model().restore_state(*snap);
  EXPECT_EQ(decode_each(model(), prompt().subspan(100, 20)), continuation);
}

TEST_F(DeviceSnapshot, SnapshotTakenRightAfterResetHoldsZeroLogitsLikeAHostSnapshot) {
  // reset() must clear the device copy of the logits too, or this snapshot would carry stale ones.
  auto host_model = tiny_model_on(kHybrid, std::make_unique<cpu::CpuOps>(2));
  model().prefill(prompt().first(20));
  model().reset();
  EXPECT_EQ(as_qwen(*model().save_state()).flat(), as_qwen(*host_model->save_state()).flat());
}

TEST_F(DeviceSnapshot, MemoryIsReleasedWhenTheSnapshotIsDestroyed) {
  model().prefill(prompt().first(30));
  const size_t before = dev_.ops->live_bytes();
  auto snap = model().save_state();
  EXPECT_EQ(dev_.ops->live_bytes(), before + snap->device_bytes());
  snap.reset();
  EXPECT_EQ(dev_.ops->live_bytes(), before);
}

TEST_F(DeviceSnapshot, FallsBackToHostMemoryWhenTheDeviceHasNoRoomAndStillRestoresExactly) {
  model().prefill(prompt().first(50));
  dev_.ops->capacity = dev_.ops->live_bytes() + 1024;  // the "GPU" is full
  auto snap = model().save_state();
  EXPECT_EQ(snap->device_bytes(), 0u);
  EXPECT_EQ(snap->host_bytes(), testing::expected_snapshot_bytes(model().config(), 50));
  const auto continuation = decode_each(model(), prompt().subspan(50, 10));
  model().reset();
  model().restore_state(*snap);
  EXPECT_EQ(decode_each(model(), prompt().subspan(50, 10)), continuation);
}

TEST_F(DeviceSnapshot, OffloadMakesAHostCopyWithIdenticalContentsInOneDownload) {
  model().prefill(prompt().first(70));
  auto snap = model().save_state();
  traffic() = {};
  auto host = model().offload_state(*snap);
  ASSERT_NE(host, nullptr);
  const ModelConfig& c = model().config();
  EXPECT_EQ(traffic().downloads, 2 * full_layers(c) + 1);  // K and V rows out of the pages, then the state
  EXPECT_EQ(traffic().download_bytes, testing::expected_snapshot_bytes(c, 70));
  EXPECT_EQ(host->position(), 70);
  EXPECT_EQ(host->device_bytes(), 0u);
  EXPECT_EQ(host->host_bytes(), testing::expected_snapshot_bytes(c, 70));
  EXPECT_FALSE(model().holds_pages(*host));
  EXPECT_EQ(as_qwen(*host).memory(), SnapshotMemory::host);
  EXPECT_EQ(as_qwen(*host).flat(), as_qwen(*snap).flat());
  // Already on the host: nothing to offload (model.h's contract).
  EXPECT_EQ(model().offload_state(*host), nullptr);
}

TEST_F(DeviceSnapshot, OffloadedSnapshotRestoresBitIdenticallyThroughUploads) {
  model().prefill(prompt().first(90));
  auto host = model().offload_state(*model().save_state());  // the device snapshot is gone after this
  ASSERT_NE(host, nullptr);
  const std::vector<float> at_save = logits_of(model());
  const auto continuation = decode_each(model(), prompt().subspan(90, 15));

  model().reset();
  traffic() = {};
  model().restore_state(*host);
  EXPECT_EQ(traffic().downloads, 0);
  EXPECT_EQ(traffic().uploads, parts(model().config()) + 1);  // + the logits, to the slot's device copy
  EXPECT_EQ(logits_of(model()), at_save);
  EXPECT_EQ(decode_each(model(), prompt().subspan(90, 15)), continuation);
  // After a restore from the host, a device snapshot again holds the restored logits.
  model().restore_state(*host);
  EXPECT_EQ(as_qwen(*model().save_state()).flat(), as_qwen(*host).flat());
}

TEST_F(DeviceSnapshot, SerialisedFormIsTheSameForDeviceAndOffloadedAndReadsBackAsAHostSnapshot) {
  model().prefill(prompt().first(64));
  auto snap = model().save_state();
  auto host = model().offload_state(*snap);
  std::stringstream from_device, from_host;
  model().serialize_state(*snap, from_device);
  model().serialize_state(*host, from_host);
  EXPECT_EQ(from_device.str(), from_host.str());
  const auto continuation = decode_each(model(), prompt().subspan(64, 12));

  model().reset();
  auto back = model().deserialize_state(from_device);
  EXPECT_EQ(back->device_bytes(), 0u);
  EXPECT_EQ(back->host_bytes(), testing::expected_snapshot_bytes(model().config(), 64));
  model().restore_state(*back);
  EXPECT_EQ(decode_each(model(), prompt().subspan(64, 12)), continuation);
}

TEST_F(DeviceSnapshot, SnapshotOfAnotherModelIsRejectedByEveryMethod) {
  auto other = tiny_model_on_fake_device(kHybrid);
  other.model->prefill(prompt().first(5));
  auto foreign = other.model->save_state();
  std::stringstream out;
  EXPECT_THROW(model().restore_state(*foreign), Error);
  EXPECT_THROW(model().offload_state(*foreign), Error);
  EXPECT_THROW(model().serialize_state(*foreign, out), Error);
}

TEST(HostBackendSnapshot, StaysInHostMemoryAndIsNeverOffloaded) {
  auto model = tiny_model_on(kHybrid, std::make_unique<cpu::CpuOps>(2));
  const Token t = 7;
  model->prefill(std::span(&t, 1));
  auto snap = model->save_state();
  EXPECT_EQ(snap->device_bytes(), 0u);
  EXPECT_EQ(snap->host_bytes(), testing::expected_snapshot_bytes(model->config(), 0));  // pages are shared
  EXPECT_TRUE(model->holds_pages(*snap));
  EXPECT_EQ(model->offload_state(*snap), nullptr);
}

TEST(SnapshotChecks, SnapshotOfADifferentlyShapedModelIsRejectedWithoutChangingTheState) {
  // dense-hf-bf16's linear layers have larger state than moe-hf-bf16-sharded's.
  auto dense = tiny_model_on("dense-hf-bf16", std::make_unique<cpu::CpuOps>(2));
  auto moe = tiny_model_on_fake_device(kHybrid);
  const std::vector<Token> tokens = {3, 9, 27};
  dense->prefill(tokens);
  std::stringstream bytes;
  dense->serialize_state(*dense->save_state(), bytes);
  auto misfit = moe.model->deserialize_state(bytes);  // reads fine: sizes are checked on restore

  moe.model->prefill(std::span(tokens).first(2));
  const std::vector<float> logits = logits_of(*moe.model);
  try {
    moe.model->restore_state(*misfit);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_request);
  }
  EXPECT_EQ(moe.model->position(), 2);
  EXPECT_EQ(logits_of(*moe.model), logits);
}

TEST(SnapshotChecks, TruncatedOrInconsistentSerialisedSnapshotsAreClearErrors) {
  auto model = tiny_model_on(kHybrid, std::make_unique<cpu::CpuOps>(2));
  const std::vector<Token> tokens = {1, 2, 3, 4};
  model->prefill(tokens);
  std::stringstream good;
  model->serialize_state(*model->save_state(), good);
  const std::string bytes = good.str();

  for (size_t keep : {size_t(0), size_t(7), size_t(20), bytes.size() / 2, bytes.size() - 1}) {
    std::stringstream cut(bytes.substr(0, keep));
    EXPECT_THROW(model->deserialize_state(cut), Error) << "kept " << keep << " of " << bytes.size() << " bytes";
  }
  // The second full layer's K claims one float less than the first's (and the part is one float
  // shorter): layers of one kind must agree.
  const Qwen35Snapshot& s = as_qwen(*model->save_state());
  const size_t header = 3 * sizeof(uint64_t);  // magic, position, full layer count
  const size_t kv_part = sizeof(uint64_t) + s.layout().kv_floats * sizeof(float);
  std::string altered = bytes;
  const size_t second_k = header + 2 * kv_part;
  const uint64_t shorter = s.layout().kv_floats - 1;
  altered.replace(second_k, sizeof(uint64_t), reinterpret_cast<const char*>(&shorter), sizeof(uint64_t));
  altered.erase(second_k + sizeof(uint64_t), sizeof(float));
  std::stringstream inconsistent(altered);
  EXPECT_THROW(model->deserialize_state(inconsistent), Error);
  // A sound file still reads.
  std::stringstream again(bytes);
  EXPECT_NO_THROW(model->deserialize_state(again));
}

}  // namespace
}  // namespace hearth::engine
