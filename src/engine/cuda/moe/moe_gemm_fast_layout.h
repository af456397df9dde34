#pragma once
// Index arithmetic of the fast grouped MoE GEMM (moe_gemm_fast.cu), plain C++ so that CPU tests can
// check it. A block computes a tile of kMoeFastBM sorted (token, expert) rows × kMoeFastBN weight rows
// with mma.sync m16n8k16; 8 warps as 2 (rows) × 4 (weight rows), each warp 32 × 32 = 2 m16 × 4 n8.
//
// Gate and up run in ONE kernel: the block's 128 weight rows are 64 gate rows and the same 64 rows of
// up, interleaved by 8 so that n8 tile 2P holds gate rows and n8 tile 2P + 1 the up rows of the same
// inter indices. A thread then holds gate and up of the same (token, inter) element in its own
// accumulators and applies SwiGLU in registers.
#include <cstdint>

#include "engine/cuda/common/host_device.h"

namespace hearth::engine::cuda {

constexpr int kMoeFastBM = 64;   // sorted rows per tile (= kGemmBM: the sort kernel's tile table)
constexpr int kMoeFastBN = 128;  // weight rows per tile
constexpr int kMoeFastBK = 64;   // K per pipeline step
constexpr int kMoeFastThreads = 256;
constexpr int kMoeFastLds = kMoeFastBK + 8;  // bf16 per staged row: 144 bytes, ldmatrix rows hit distinct banks
constexpr int kMoeFastInterPerTile = kMoeFastBN / 2;  // gate/up kernel: inter indices per tile

// Shared memory: A and W tiles, double buffered (bf16).
constexpr int kMoeFastSmemBytes = 2 * (kMoeFastBM + kMoeFastBN) * kMoeFastLds * 2;

struct FusedWeightRow {
  int up = 0;      // 0: gate matrix, 1: up matrix
  int offset = 0;  // inter index relative to the tile's first (0..63)
};

// Weight row r (0..127) of a gate/up tile.
constexpr HEARTH_HOST_DEVICE FusedWeightRow fused_gate_up_row(int r) {
  return {(r >> 3) & 1, 8 * (r >> 4) + (r & 7)};
}

// The inverse: the tile row holding (matrix, offset).
constexpr HEARTH_HOST_DEVICE int fused_gate_up_tile_row(int up, int offset) { return 16 * (offset >> 3) + 8 * up + (offset & 7); }

// mma.sync m16n8k16 accumulator: register reg (0..3) of lane holds (row, col) of the 16 × 8 tile.
struct FragPos {
  int row = 0, col = 0;
};
constexpr HEARTH_HOST_DEVICE FragPos mma_acc_pos(int lane, int reg) {
  return {(lane >> 2) + 8 * (reg >> 1), 2 * (lane & 3) + (reg & 1)};
}

// ldmatrix.x4 addresses. A (16 × 16 row-major, rows = sorted rows, cols = k): lane l gives the start of
// row l % 16 at k offset 8 · (l / 16), so matrices 0..3 are (rows 0-7, k 0-7), (8-15, 0-7), (0-7, 8-15),
// (8-15, 8-15): the a0..a3 registers of the MMA.
constexpr HEARTH_HOST_DEVICE FragPos ldmatrix_a_src(int lane) { return {lane & 15, 8 * (lane >> 4)}; }
// W (two n8 tiles × k16, stored [n][k]): matrices 0..3 are (n 0-7, k 0-7), (n 0-7, k 8-15),
// (n 8-15, k 0-7), (n 8-15, k 8-15): b0, b1 of n8 tile 0, then b0, b1 of n8 tile 1.
constexpr HEARTH_HOST_DEVICE FragPos ldmatrix_b_src(int lane) { return {(lane & 7) + 8 * (lane >> 4), 8 * ((lane >> 3) & 1)}; }

// A tile staging by cp.async: 16-byte piece i (0..511) of the 64 × 64 bf16 tile.
constexpr HEARTH_HOST_DEVICE FragPos a_piece(int i) { return {i >> 3, 8 * (i & 7)}; }

// W staging: thread t decodes 32 consecutive k (one packed chunk) of tile row t / 2.
constexpr HEARTH_HOST_DEVICE FragPos w_piece(int t) { return {t >> 1, 32 * (t & 1)}; }

}  // namespace hearth::engine::cuda
