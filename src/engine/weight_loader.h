#pragma once
// Builds ModelWeights from memory-mapped safetensors (any naming scheme and format hearth reads).
// Quantization parameters come from the tensors' own shapes (bits = packed width · 32 / input size,
// group = input size / scale columns; biases mark affine, uint8 scales mark mxfp4/nvfp4/mxfp8), so
// per-module overrides in config.json — and artifacts converted with other gate settings — load
// without trusting the config's numbers. Errors name the tensor and what is wrong with it.
#include <filesystem>

#include "engine/config.h"
#include "engine/load_progress.h"
#include "engine/model_weights.h"

namespace hearth::engine {

// With a progress callback every tensor is read from disk once before the weights are built
// (WeightFiles::read_all), reporting LoadStage::read_weights.
ModelWeights load_safetensors_weights(const std::filesystem::path& dir, const ModelConfig& config,
                                      const LoadProgressFn& progress = {});

}  // namespace hearth::engine
