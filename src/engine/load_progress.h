#pragma once
// Progress of loading a model, reported through a callback so that the engine prints nothing itself
// (the app renders it: app/progress_display.h). Stages, in order:
//   read_weights   every tensor of the safetensors files read from disk once (pages brought into
//                  memory in file order, so a cold start reads at disk speed and shows it)
//   place_weights  the weight matrices copied to the backend's memory (CUDA only; the CPU backend
//                  uses the mapped files in place)
#include <cstdint>
#include <functional>

namespace hearth::engine {

enum class LoadStage { read_weights, place_weights };
const char* load_stage_name(LoadStage stage);  // "reading weights", "placing weights on the GPU"

struct LoadProgress {
  LoadStage stage = LoadStage::read_weights;
  uint64_t bytes_done = 0, bytes_total = 0;
  int64_t tensors_done = 0, tensors_total = 0;
  bool finished = false;  // the stage's last report
};

// Called on the loading thread; may be empty.
using LoadProgressFn = std::function<void(const LoadProgress&)>;

}  // namespace hearth::engine
