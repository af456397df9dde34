#pragma once
// Index mappings of the fused MoE decode kernels (moe_decode_fused.cu), plain C++ usable on both sides
// so that CPU unit tests pin them down (tests/engine/moe_fused_layout_test.cpp).
//
// A token's work is seen as one virtual matrix of "parts": slot j < top_k is the j-th chosen expert,
// slot top_k the shared expert (present when shared_inter > 0).
//  - gate/up: virtual row v covers part slot(v), row row(v) of its gate and up matrices; the h vector
//    of a token is the parts' rows back to back (h[slot·inter + row], the shared part after the k
//    experts), vrows floats in all.
//  - down: every output row is a dot over the virtual columns of all parts; each part starts at a
//    32-element chunk of its own (padding zero-filled), so a chunk never straddles two matrices.
#include <cstdint>

#include "engine/cuda/common/host_device.h"

namespace hearth::engine::cuda {

struct MoeFusedLayout {
  int64_t top_k = 0;
  int64_t inter = 0;          // rows of an expert's gate/up, columns of its down
  int64_t shared_inter = 0;   // the same for the shared expert; 0 without one
  int64_t vrows = 0;          // top_k · inter + shared_inter
  int64_t expert_chunks = 0;  // ceil(inter / 32)
  int64_t shared_chunks = 0;  // ceil(shared_inter / 32)
  int64_t down_chunks = 0;    // top_k · expert_chunks + shared_chunks
};

struct MoeVirtualRow {
  int64_t slot = 0;  // top_k: the shared expert
  int64_t row = 0;
};

struct MoeVirtualChunk {
  int64_t slot = 0;   // top_k: the shared expert
  int64_t chunk = 0;  // within the part
};

HEARTH_HOST_DEVICE inline MoeFusedLayout moe_fused_layout(int64_t top_k, int64_t inter, int64_t shared_inter) {
  MoeFusedLayout l;
  l.top_k = top_k;
  l.inter = inter;
  l.shared_inter = shared_inter;
  l.vrows = top_k * inter + shared_inter;
  l.expert_chunks = (inter + 31) / 32;
  l.shared_chunks = (shared_inter + 31) / 32;
  l.down_chunks = top_k * l.expert_chunks + l.shared_chunks;
  return l;
}

// v < l.vrows.
HEARTH_HOST_DEVICE inline MoeVirtualRow moe_virtual_row(const MoeFusedLayout& l, int64_t v) {
  const int64_t routed = l.top_k * l.inter;
  if (v >= routed) return {l.top_k, v - routed};
  const int64_t slot = v / l.inter;
  return {slot, v - slot * l.inter};
}

// vc < l.down_chunks.
HEARTH_HOST_DEVICE inline MoeVirtualChunk moe_virtual_chunk(const MoeFusedLayout& l, int64_t vc) {
  const int64_t routed = l.top_k * l.expert_chunks;
  if (vc >= routed) return {l.top_k, vc - routed};
  const int64_t slot = vc / l.expert_chunks;
  return {slot, vc - slot * l.expert_chunks};
}

// Columns of a part's down matrix (= its rows in gate/up).
HEARTH_HOST_DEVICE inline int64_t moe_part_cols(const MoeFusedLayout& l, int64_t slot) {
  return slot < l.top_k ? l.inter : l.shared_inter;
}

// Where a part's values start in the token's h vector.
HEARTH_HOST_DEVICE inline int64_t moe_part_offset(const MoeFusedLayout& l, int64_t slot) { return slot * l.inter; }

}  // namespace hearth::engine::cuda
