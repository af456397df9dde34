#pragma once
// Launch plan of the streaming matrix-vector kernel (matvec_stream.cu), as plain host C++ so that the
// CPU tests can check it: how many rows a warp takes at once, how the columns are sliced to fit the
// staged input in shared memory, and the shared-memory footprint.
#include <algorithm>
#include <cstdint>

namespace hearth::engine::cuda::stream {

constexpr int kWarps = 8;  // warps per block
constexpr int kThreads = kWarps * 32;
// 16-byte loads each lane keeps in flight per round (rows × chunk slots): enough to cover HBM latency
// with a few warps per SM, few enough registers for several blocks per SM.
constexpr int kLoadsPerLane = 8;
// Staged input (x̂ as float plus one Σx̂ per 32-column chunk, per token) per block: 80 KB leaves two
// blocks per SM even for the widest slices; a 2048-column single-token input takes 8.4 KB.
constexpr int64_t kStageBudget = 80 * 1024;

// Shared memory of one block staging `chunks` 32-column chunks of `n` tokens.
constexpr int64_t staged_bytes(int n, int64_t chunks) { return int64_t{n} * chunks * (32 * 4 + 4); }

// Lane-major staging of the single-token kernel: chunks in blocks of 32 (a warp's chunks of one
// round), within a block all chunks' elements 4e4..4e4+3 together, so lane l's float4 for e4 lies at
// 16·(8·(c − l) + 32·e4 + l) bytes: one register plus an immediate, and a warp's 32 lanes read 512
// consecutive bytes (no bank conflict). Needs the chunk count rounded up to a multiple of 32.
constexpr int64_t lane_major_slot(int64_t c, int e4) { return (c >> 5) * 256 + e4 * 32 + (c & 31); }
constexpr int64_t lane_major_chunks(int64_t chunks) { return (chunks + 31) / 32 * 32; }

// Chunks per column slice: all of them when they fit the budget, else equal slices that do.
inline int64_t slice_chunks(int n, int64_t chunks) {
  const int64_t fit = std::max<int64_t>(1, kStageBudget / staged_bytes(n, 1));
  if (chunks <= fit) return chunks;
  const int64_t slices = (chunks + fit - 1) / fit;
  return (chunks + slices - 1) / slices;
}

// Rows per warp (1, 2 or 4): enough rows that a lane has kLoadsPerLane loads in flight when a row
// gives it fewer (a 2048-column 4-bit row is 64 chunks: 2 per lane, so 4 rows), but never so many
// that the launch has fewer than `min_warps` row groups (small matrices spread over more SMs instead).
// `loads_per_chunk`: 16-byte loads per 32-element chunk (1 for 4-bit, 2 for 8-bit).
inline int rows_per_warp(int64_t total_rows, int64_t slice_chunks, int loads_per_chunk, int64_t min_warps,
                         int loads_per_lane = kLoadsPerLane) {
  const int64_t per_lane = std::max<int64_t>(1, (slice_chunks + 31) / 32) * loads_per_chunk;
  int r = 1;
  while (r < 4 && per_lane * r * 2 <= loads_per_lane && r * 2 * loads_per_chunk <= loads_per_lane) r *= 2;
  while (r > 1 && (total_rows + r - 1) / r < min_warps) r /= 2;
  return r;
}

}  // namespace hearth::engine::cuda::stream
