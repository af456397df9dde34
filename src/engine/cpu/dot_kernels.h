#pragma once
// Row kernels of the CPU backend: the dot product of one stored weight row with a float vector,
// decoding the row's format on the fly, and decoding a row to floats (for multi-token matmuls, where
// one decoded row serves every token). AVX2+FMA versions are picked at run time when the processor
// has them; the portable versions are the reference they are tested against.
#include <cstdint>

#include "engine/weight_formats.h"

namespace hearth::engine::cpu {

enum class KernelIsa { portable, avx2 };
KernelIsa best_isa();
void set_isa_override(KernelIsa isa);  // tests: force the portable kernels (or back to avx2)
KernelIsa active_isa();

float dot_f32(const float* a, const float* b, int64_t n);
// Σ_j W[r][j] · x[j] over the row's cols.
float dot_row(const WeightMatrix& w, int64_t r, const float* x);
// out[j] = W[r][j].
void decode_row_fast(const WeightMatrix& w, int64_t r, float* out);

}  // namespace hearth::engine::cpu
