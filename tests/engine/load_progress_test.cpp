// Loading progress (engine/load_progress.h): the stages report every tensor and byte, in order, and end
// with a finished report; the CPU backend has no placement stage.
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "engine/loader.h"
#include "engine/safetensors.h"
#include "fake_device_ops.h"

namespace hearth::engine {
namespace {


void expect_stage_complete(const std::vector<LoadProgress>& reports, LoadStage stage) {
  std::vector<LoadProgress> mine;
  for (const LoadProgress& p : reports) {
    if (p.stage == stage) mine.push_back(p);
  }
  ASSERT_GE(mine.size(), 2u) << load_stage_name(stage);
  EXPECT_EQ(mine.front().bytes_done, 0u);
  EXPECT_EQ(mine.front().tensors_done, 0);
  for (size_t i = 1; i < mine.size(); ++i) {
    EXPECT_GE(mine[i].bytes_done, mine[i - 1].bytes_done);
    EXPECT_GE(mine[i].tensors_done, mine[i - 1].tensors_done);
    EXPECT_EQ(mine[i].bytes_total, mine.front().bytes_total);
    EXPECT_EQ(mine[i].finished, i + 1 == mine.size());
  }
  EXPECT_GT(mine.back().bytes_total, 0u);
  EXPECT_EQ(mine.back().bytes_done, mine.back().bytes_total);
  EXPECT_EQ(mine.back().tensors_done, mine.back().tensors_total);
}

TEST(LoadProgress, ReadingCoversEveryTensorOfTheFiles) {
  const auto dir = testing::tiny_model_dir("dense-hf-bf16");
  std::vector<LoadProgress> reports;
  const ModelConfig config = load_model_config(dir);
  const ModelWeights w = load_safetensors_weights(dir, config, [&](const LoadProgress& p) { reports.push_back(p); });
  expect_stage_complete(reports, LoadStage::read_weights);
  const WeightFiles files = WeightFiles::open_dir(dir);
  size_t bytes = 0;
  for (const std::string& name : files.names()) bytes += files.get(name).bytes;
  EXPECT_EQ(reports.back().bytes_total, bytes);
  EXPECT_EQ(reports.back().tensors_total, static_cast<int64_t>(files.names().size()));
}

TEST(LoadProgress, PlacingOnADeviceBackendReportsEveryMatrix) {
  const auto dir = testing::tiny_model_dir("moe-hf-bf16-sharded");
  ModelConfig config = load_model_config(dir);
  ModelWeights weights = load_safetensors_weights(dir, config);
  std::vector<LoadProgress> reports;
  Qwen35Options options;
  options.max_context = 64;
  options.progress = [&](const LoadProgress& p) { reports.push_back(p); };
  auto ops = std::make_unique<testing::FakeDeviceOps>();
  Qwen35Model model(std::move(config), std::move(weights), std::move(ops), options);
  expect_stage_complete(reports, LoadStage::place_weights);
}

TEST(LoadProgress, TheCpuBackendReadsButPlacesNothing) {
  LoadOptions o;
  o.model_dir = testing::tiny_model_dir("dense-hf-bf16");
  o.device = Device::cpu;
  o.max_context = 64;
  std::vector<LoadProgress> reports;
  o.progress = [&](const LoadProgress& p) { reports.push_back(p); };
  const auto model = load_model(o);
  expect_stage_complete(reports, LoadStage::read_weights);
  for (const LoadProgress& p : reports) EXPECT_EQ(p.stage, LoadStage::read_weights);
}

}  // namespace
}  // namespace hearth::engine
