#pragma once
// `--load-format dummy`: random weights for any config, without files, for benchmarks of real model
// shapes (as vLLM's dummy format). Matrices use the config's quantization (global setting, per-module
// overrides, MLX's rule that a layer whose input size the group does not divide stays unquantized)
// or bf16 when there is none, so a dummy model reads the same bytes per token as the real one.
//
// Memory: the random bytes come from a few pools (one per kind of content: packed codes, bf16
// values, scales of each encoding), at most 64 MiB each. A matrix no larger than its pool points into
// it; a larger one is a virtual range onto which the pool is mapped repeatedly (memfd + MAP_FIXED),
// so the 35B-A3B shape (~19 GB at 4 bits) loads in seconds on a 24 GB machine while every byte a kernel
// reads is still real memory. Weights therefore repeat with a period of the pool size; that is fine
// for speed measurements and is why dummy output is gibberish. A device backend can build the same
// aliasing with its virtual-memory API (cuMemMap of one physical allocation at many addresses).
#include <cstdint>

#include "engine/config.h"
#include "engine/model_weights.h"

namespace hearth::engine {

ModelWeights make_dummy_weights(const ModelConfig& config, uint64_t seed);

}  // namespace hearth::engine
