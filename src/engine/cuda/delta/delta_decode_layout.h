#pragma once
// Block layout of the one-kernel Gated DeltaNet decode step (delta_decode.cu, launcher in delta.h), plain
// C++ so that the CPU tests check it (tests/engine/cuda_fused_layout_test.cpp).
#include <cstdint>

#include "engine/cuda/common/host_device.h"

namespace hearth::engine::cuda {

// The block layout: a cluster of blocks per KEY head — (v_heads/k_heads) value heads × ceil(dv/32)
// column blocks — so the conv state of the key head's q/k channels, read by all of them, is rewritten
// only after every block of the cluster has read it, and each value head's RMS is summed across its
// column blocks through distributed shared memory.
HEARTH_HOST_DEVICE constexpr int delta_decode_column_blocks(int dv) { return (dv + 31) / 32; }
HEARTH_HOST_DEVICE constexpr int delta_decode_cluster_size(int k_heads, int v_heads, int dv) {
  return (v_heads / k_heads) * delta_decode_column_blocks(dv);
}
// Block x of a cluster → (value head within the key head, column block); value head = kh·ratio + r.
struct DeltaDecodeBlock {
  int value_in_key = 0;  // r
  int column_block = 0;
};
HEARTH_HOST_DEVICE constexpr DeltaDecodeBlock delta_decode_block(int block_x, int dv) {
  return {block_x / delta_decode_column_blocks(dv), block_x % delta_decode_column_blocks(dv)};
}

}  // namespace hearth::engine::cuda
