#pragma once
// Index mapping of the tensor-core matrix-vector kernel (matvec_tc.cu), plain C++ so that the CPU
// unit tests check the very functions the kernel runs.
//
// The kernel multiplies 16 rows × one 64-column "k-tile" of W with `mma.m16n8k16` (A = integer codes
// as fp16, B = staged input split into fp16 hi + lo). Lane (g = lane / 4, t = lane % 4) loads the 16
// codes of columns [16t, 16t + 16) of the k-tile for rows g and g + 8 (4-bit: one 8-byte load per row;
// 8-bit: one 16-byte load), so the four lanes of a quad — whose products one MMA sums — always hold
// one quantisation group (64 or 128 columns) and the group's scale and bias apply to the whole MMA
// result. The 64 columns are visited as 4 MMAs (m = 0..3) of 16 logical k each:
//
//   column(t, m, k) = 16t + 8·(m / 2) + 2·(m % 2) + (k / 8) + 4·(k % 2),   t = (k % 8) / 2
//
// chosen so that one 4-bit word gives an A register with ONE shift and mask — (w >> 4i) & 0x000F000F
// holds codes i and i + 4 — and the 8-bit words give it with one byte permute. The staged input is
// stored in the same order (b_slot), so a lane reads all its B registers of a k-tile with two 16-byte
// shared-memory loads.
#include <cstdint>

#include "engine/cuda/common/host_device.h"

namespace hearth::engine::cuda::tc {

constexpr int kTileCols = 64;  // columns per k-tile (one g64 group, half a g128 group)
constexpr int kTileRows = 16;  // rows per MMA

// Column within the k-tile of logical k (0..15) of MMA m (0..3) for the lane with t = lane % 4.
// (k % 8) / 2 must equal t: the fragment layout of m16n8k16 gives lane t the k values 2t, 2t+1,
// 2t+8, 2t+9.
HEARTH_HOST_DEVICE_INLINE int tile_column(int m, int k) {
  const int t = (k & 7) >> 1, upper = k >> 3, half = k & 1;
  return 16 * t + 8 * (m >> 1) + 2 * (m & 1) + upper + 4 * half;
}

// Position (in halves, 0..63) of tile column c in the staged k-tile: lane t's B registers of MMA m
// are the half pairs at t·16 + m·4 + {0, 2} (b0 = k 2t, 2t+1; b1 = k 2t+8, 2t+9).
HEARTH_HOST_DEVICE_INLINE int b_slot(int c) {
  const int t = c >> 4, within = c & 15;
  const int rem = within & 7, r2 = rem & 3;
  const int half = rem >> 2, upper = r2 & 1;
  const int m = 2 * (within >> 3) + (r2 >> 1);
  return t * 16 + m * 4 + upper * 2 + half;
}

// 4-bit: lane t holds words 2t (w0) and 2t+1 (w1) of the k-tile's 8 words for a row. The A register
// of MMA m, upper (0: k 2t, 2t+1; 1: k 2t+8, 2t+9) is the half2 (1024 + q_lo, 1024 + q_hi).
HEARTH_HOST_DEVICE_INLINE uint32_t a_reg_4bit(uint32_t w0, uint32_t w1, int m, int upper) {
  const uint32_t w = (m >> 1) ? w1 : w0;
  const int shift = 4 * (2 * (m & 1) + upper);
  return ((w >> shift) & 0x000F000Fu) | 0x64006400u;
}

// Byte `sel` of x in bits 0..7 and byte `sel` of y in bits 16..23 (other bits unspecified; masked).
HEARTH_HOST_DEVICE_INLINE uint32_t pair_bytes(uint32_t x, uint32_t y, int sel) {
#if defined(__CUDA_ARCH__)
  // Selector nibbles: result byte 0 = x.sel, byte 2 = y.sel (y's bytes are 4..7); bytes 1, 3 = x.0.
  return __byte_perm(x, y, static_cast<uint32_t>(sel) | (static_cast<uint32_t>(sel + 4) << 8));
#else
  return ((x >> (8 * sel)) & 0xFFu) | (((y >> (8 * sel)) & 0xFFu) << 16);
#endif
}

// 8-bit: lane t holds words 4t + j (j = 0..3) of the k-tile's 16 words for a row. Tile column
// 16t + 8(m/2) + 2(m%2) + upper + 4·half is byte (2(m%2) + upper) of word 2(m/2) + half.
HEARTH_HOST_DEVICE_INLINE uint32_t a_reg_8bit(const uint32_t (&w)[4], int m, int upper) {
  const int j = 2 * (m >> 1);
  const uint32_t p = pair_bytes(w[j], w[j + 1], 2 * (m & 1) + upper);
  return (p & 0x00FF00FFu) | 0x64006400u;
}

// The code a half of an A register carries (for tests): 1024 + q as fp16 has q in the low 10 bits.
HEARTH_HOST_DEVICE_INLINE int a_code(uint32_t reg, int half) { return static_cast<int>((reg >> (16 * half)) & 0x3FFu); }

// C fragment of m16n8k16: lane (g, t) holds c[j] = C[g + 8·(j / 2)][2t + (j % 2)]. Column n of B and C
// is token (n % 4) of the token set, part n / 4 (0: hi, 1: lo).
HEARTH_HOST_DEVICE_INLINE int c_row(int lane, int j) { return (lane >> 2) + 8 * (j >> 1); }
HEARTH_HOST_DEVICE_INLINE int c_col(int lane, int j) { return 2 * (lane & 3) + (j & 1); }
// Lane and register holding C[row][col].
HEARTH_HOST_DEVICE_INLINE int c_lane(int row, int col) { return (row & 7) * 4 + (col >> 1); }
HEARTH_HOST_DEVICE_INLINE int c_reg(int row, int col) { return 2 * (row >> 3) + (col & 1); }

// ---- launch plan ---------------------------------------------------------------------------------
constexpr int kWarps = 8;  // per block
constexpr int64_t kSmemBudget = 100 * 1024;  // dynamic shared memory per block: two blocks per SM
constexpr int kPadHalves = 8;  // 16 bytes after each staged row: consecutive rows start on odd 16-byte banks
constexpr int kUnroll4 = 4;    // 4-bit k-tiles per warp and round (one token set)

HEARTH_HOST_DEVICE_INLINE int64_t align16(int64_t b) { return (b + 15) & ~int64_t{15}; }
HEARTH_HOST_DEVICE_INLINE int token_sets(int n) { return n <= 4 ? 1 : 2; }
// Shared memory: staged halves [2n rows][slice + pad], per-k-tile sums of x̃ [slice / 64][8 tokens],
// reduction buffers [2][kWarps][sets][32 lanes][4].
HEARTH_HOST_DEVICE_INLINE int64_t staged_bytes(int n, int64_t slice) { return align16(2 * n * (slice + kPadHalves) * 2); }
HEARTH_HOST_DEVICE_INLINE int64_t sums_bytes(int64_t slice) { return (slice / kTileCols) * 8 * 4; }
HEARTH_HOST_DEVICE_INLINE int64_t red_bytes(int sets) { return 2 * kWarps * sets * 32 * 4 * 4; }

struct Plan {
  int64_t slice_cols = 0;   // columns staged at once (multiple of 64)
  int tiles_per_group = 0;  // row tiles a block works on at once; kWarps / tiles_per_group warps split each
  int64_t smem_bytes = 0;   // dynamic shared memory per block
};

// n tokens (1..8) over `cols` columns (a multiple of 64).
inline Plan plan(int n, int64_t cols) {
  Plan p;
  const int sets = token_sets(n);
  // Largest multiple of 64 columns whose staging fits: 4n bytes of halves + 0.5 of sums per column.
  const int64_t fixed = red_bytes(sets) + 2 * n * kPadHalves * 2 + 16;
  int64_t slice = (kSmemBudget - fixed) / (4 * n + 1) / kTileCols * kTileCols;
  slice = slice < cols ? slice : cols;
  p.slice_cols = slice < kTileCols ? kTileCols : slice;
  // Warps per row tile: the most (up to kWarps) that still give each two rounds' worth of k-tiles
  // or one full round.
  const int64_t ktiles = p.slice_cols / kTileCols;
  int wpt = 1;
  while (wpt < kWarps && static_cast<int64_t>(wpt) * 2 * kUnroll4 <= ktiles) wpt *= 2;
  p.tiles_per_group = kWarps / wpt;
  p.smem_bytes = staged_bytes(n, p.slice_cols) + sums_bytes(p.slice_cols) + red_bytes(sets);
  return p;
}

}  // namespace hearth::engine::cuda::tc
