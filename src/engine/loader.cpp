#include "engine/loader.h"

#include <filesystem>

#include "engine/config.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/dummy_weights.h"
#include "engine/qwen35_model.h"
#include "engine/weight_loader.h"
#include "util/error.h"

namespace hearth::engine {

std::unique_ptr<Model> load_model(const LoadOptions& options) {
  if (options.device == Device::cuda) {
    throw Error("this build of hearth has no CUDA backend yet; use --device cpu", ErrorKind::unsupported);
  }
  if (options.max_context <= 0) throw Error("max_context must be positive", ErrorKind::invalid_request);
  ModelConfig config = load_model_config(options.model_dir);
  ModelWeights weights = options.format == LoadFormat::dummy ? make_dummy_weights(config, options.dummy_seed)
                                                             : load_safetensors_weights(options.model_dir, config);
  Qwen35Options model_options;
  model_options.max_context = options.max_context;
  return std::make_unique<Qwen35Model>(std::move(config), std::move(weights), std::make_unique<cpu::CpuOps>(options.threads),
                                       model_options);
}

}  // namespace hearth::engine
