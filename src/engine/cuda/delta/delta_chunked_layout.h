#pragma once
// Index mappings of the chunked delta rule kernels (delta_chunked.cu), as host + device functions so
// that the CPU tests check them (every element owned by exactly one thread, workspace slots disjoint).
#include <cstdint>

#include "engine/cuda/common/host_device.h"

namespace hearth::engine::cuda::delta_layout {

inline constexpr int kChunk = 64;     // tokens per chunk
inline constexpr int kDim = 128;      // Dk = Dv
inline constexpr int kThreads = 256;  // both kernels
inline constexpr int kWarps = kThreads / 32;
inline constexpr int kColumns = 32;  // walk: state columns per block, one per lane
// Workspace per (value head, chunk): W [kChunk][kDim], then intra [kChunk][kChunk], then the row factors
// the walk applies to the raw q and k rows: fq [kChunk] (q's norm · Dk^-½ · e^{G_i}), fk [kChunk] (k's
// norm · e^{G_last − G_i}), the chunk decay e^{G_last} and 3 floats of padding (slots stay 16-byte aligned).
inline constexpr int64_t kIntraOffset = int64_t{kChunk} * kDim;
inline constexpr int64_t kFqOffset = kIntraOffset + int64_t{kChunk} * kChunk;
inline constexpr int64_t kFkOffset = kFqOffset + kChunk;
inline constexpr int64_t kDecayOffset = kFkOffset + kChunk;
inline constexpr int64_t kWorkspaceFloats = kDecayOffset + 4;
inline constexpr int kRowsPerWarp = kChunk / kWarps;     // walk: V' and O rows of a warp
inline constexpr int kStateRowsPerWarp = kDim / kWarps;  // walk: state rows of a warp

HEARTH_HOST_DEVICE inline int64_t chunk_count(int64_t n) { return (n + kChunk - 1) / kChunk; }

// First float of the (value head, chunk) slot in the workspace.
HEARTH_HOST_DEVICE inline int64_t workspace_offset(int h, int chunk, int chunks) {
  return (static_cast<int64_t>(h) * chunks + chunk) * kWorkspaceFloats;
}

// An m16n8k8 MMA accumulator (16 × 8 tile): lane's entry i (< 4) sits at row g + 8·(i / 2), column
// 2t + i % 2, with g = lane / 4, t = lane % 4.
HEARTH_HOST_DEVICE inline int mma_acc_row(int lane, int i) { return (lane >> 2) + 8 * (i >> 1); }
HEARTH_HOST_DEVICE inline int mma_acc_col(int lane, int i) { return 2 * (lane & 3) + (i & 1); }

// walk: the first V'/O row of a warp, and the first state row of a warp.
HEARTH_HOST_DEVICE inline int walk_row0(int warp) { return warp * kRowsPerWarp; }
HEARTH_HOST_DEVICE inline int walk_state_row0(int warp) { return warp * kStateRowsPerWarp; }

}  // namespace hearth::engine::cuda::delta_layout

