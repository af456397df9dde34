#pragma once
// Builds a Model from a model directory (config.json + safetensors) or, with LoadFormat::dummy, from a
// config alone with random weights. The backend is chosen here (CPU now; CUDA when built and present).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/load_progress.h"
#include "engine/model.h"

namespace hearth::engine {

enum class LoadFormat { safetensors, dummy };
enum class Device { automatic, cpu, cuda };
// Arithmetic of the CUDA backend's prefill matrix products (cuda::Precision): fast = bf16 operands with
// float32 accumulation (the default), exact = float32-faithful. The CPU backend computes in float32
// either way.
enum class Precision { fast, exact };
// "fast" | "exact"; anything else is a hearth::Error naming `flag`.
Precision parse_precision(const std::string& text, const std::string& flag = "--precision");
const char* precision_name(Precision p);

struct LoadOptions {
  std::filesystem::path model_dir;     // holds config.json (and weights unless dummy)
  LoadFormat format = LoadFormat::safetensors;
  Device device = Device::automatic;
  // Positions one sequence can hold. 0: the model's own maximum (max_position_embeddings) where the
  // memory plan fits it, else the largest that fits (ModelInfo::max_context says which).
  int64_t max_context = 32768;
  int32_t slots = 0;                   // sequences held at once; 0: 4 on CUDA, 1 on the CPU
  int threads = 0;                     // CPU threads; 0 = all cores
  uint64_t dummy_seed = 1;             // LoadFormat::dummy
  Precision precision = Precision::fast;
  // Loading stages as they go (load_progress.h); when set, the weight files are read through once.
  LoadProgressFn progress;
};

// "auto" | "cpu" | "cuda"; anything else is a hearth::Error naming `flag`.
Device parse_device(const std::string& text, const std::string& flag = "--device");

// The device load_model() puts a model on: Device::automatic resolved to cuda or cpu. Throws
// hearth::Error(unsupported) for Device::cuda in a build without CUDA.
Device resolve_device(Device requested);

// Throws hearth::Error naming the problem (unsupported architecture, missing/bad tensor, ...).
std::unique_ptr<Model> load_model(const LoadOptions& options);

}  // namespace hearth::engine
