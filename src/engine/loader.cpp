#include "engine/loader.h"

#include <filesystem>

#include "engine/config.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/dummy_weights.h"
#include "engine/qwen35_model.h"
#include "engine/weight_loader.h"
#include "util/error.h"
#ifdef HEARTH_HAVE_CUDA
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/cuda_ops.h"
#endif

namespace hearth::engine {

// Device::automatic picks CUDA when this build has it and a GPU is present.
Device resolve_device(Device requested) {
#ifdef HEARTH_HAVE_CUDA
  if (requested == Device::automatic) return cuda::device_available() ? Device::cuda : Device::cpu;
  return requested;
#else
  if (requested == Device::cuda) {
    throw Error("this build of hearth has no CUDA backend (nvcc was not found when it was built); use --device cpu",
                ErrorKind::unsupported);
  }
  return Device::cpu;
#endif
}

Precision parse_precision(const std::string& text, const std::string& flag) {
  if (text == "fast") return Precision::fast;
  if (text == "exact") return Precision::exact;
  throw Error(flag + ": '" + text + "' is not one of fast, exact", ErrorKind::invalid_request);
}

Device parse_device(const std::string& text, const std::string& flag) {
  if (text == "auto") return Device::automatic;
  if (text == "cpu") return Device::cpu;
  if (text == "cuda") return Device::cuda;
  throw Error(flag + ": '" + text + "' is not one of auto, cpu, cuda", ErrorKind::invalid_request);
}

const char* precision_name(Precision p) { return p == Precision::exact ? "exact" : "fast"; }

const char* load_stage_name(LoadStage stage) {
  return stage == LoadStage::read_weights ? "reading weights" : "placing weights on the GPU";
}

std::unique_ptr<Model> load_model(const LoadOptions& options) {
  if (options.max_context < 0) throw Error("max_context must not be negative", ErrorKind::invalid_request);
  [[maybe_unused]] const bool cuda = resolve_device(options.device) == Device::cuda;
  ModelConfig config = load_model_config(options.model_dir);
  // Dummy weights on CUDA: the host builder only lays the matrices out (its large matrices are
  // address-space aliases of small pools); the backend fills device memory with random data itself.
  ModelWeights weights = options.format == LoadFormat::dummy ? make_dummy_weights(config, options.dummy_seed)
                                                             : load_safetensors_weights(options.model_dir, config, options.progress);
  Qwen35Options model_options;
  const int64_t model_limit = std::max<int64_t>(2, config.max_position_embeddings);
  model_options.max_context = options.max_context > 0 ? options.max_context : model_limit;
  if (options.slots < 0) throw Error("slots must not be negative", ErrorKind::invalid_request);
  // Several sequences pay on a GPU (a decode step costs about the same for 1 or 4 of them); the CPU
  // reference computes each sequence's rows anyway, so one at a time is as fast there.
  model_options.slots = options.slots > 0 ? options.slots : (cuda ? 4 : 1);
  std::unique_ptr<Ops> ops;
#ifdef HEARTH_HAVE_CUDA
  if (cuda) {
    // Larger prefill chunks keep the GPU's matrix units busy. The fast products dequantise every dense
    // weight matrix to bf16 once per chunk (~40 ms for a 27B model), so they take longer chunks to
    // amortise that; 4096 tokens cost ~1.5 GB of activations on a 27B model.
    model_options.max_chunk = options.precision == Precision::fast ? 4096 : 1024;
    cuda::CudaBackendOptions co;
    co.slots = model_options.slots;
    co.max_chunk = model_options.max_chunk;
    co.precision = options.precision == Precision::exact ? cuda::Precision::exact : cuda::Precision::fast;
    if (options.max_context == 0) {
      model_options.max_context = cuda::largest_fitting_context(config, weights, co, model_limit);
      if (model_options.max_context == 0) {
        throw Error("the model does not fit on the GPU even with a context of 1024 tokens: use a smaller model or quantization",
                    ErrorKind::unsupported);
      }
    }
    co.max_context = model_options.max_context;
    model_options.progress = options.progress;  // the copy to the GPU is a stage of its own
    co.random_weights = options.format == LoadFormat::dummy;
    co.seed = options.dummy_seed;
    ops = cuda::make_cuda_backend(config, weights, co);  // checks the memory plan first
  }
#endif
  if (!ops) ops = std::make_unique<cpu::CpuOps>(options.threads);
  return std::make_unique<Qwen35Model>(std::move(config), std::move(weights), std::move(ops), model_options);
}

}  // namespace hearth::engine
