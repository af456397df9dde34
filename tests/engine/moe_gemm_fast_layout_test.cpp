// The fast grouped MoE GEMM's index arithmetic (moe_gemm_fast_layout.h), checked on the CPU against the
// fragment layouts of mma.sync m16n8k16 and ldmatrix as the PTX ISA defines them: a lane's register
// must hold the element the MMA expects there, and every staged element must be written exactly once.
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "engine/cuda/moe/moe_gemm_fast_layout.h"

namespace hearth::engine::cuda {
namespace {

TEST(MoeFastLayout, FusedRowsAreABijectionOntoGateAndUpRows) {
  std::set<std::pair<int, int>> seen;
  for (int r = 0; r < kMoeFastBN; ++r) {
    const FusedWeightRow f = fused_gate_up_row(r);
    EXPECT_TRUE(f.up == 0 || f.up == 1) << r;
    EXPECT_GE(f.offset, 0);
    EXPECT_LT(f.offset, kMoeFastInterPerTile);
    EXPECT_EQ(fused_gate_up_tile_row(f.up, f.offset), r);
    seen.insert({f.up, f.offset});
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kMoeFastBN));
}

TEST(MoeFastLayout, EachGateTileIsFollowedByTheUpTileOfTheSameInterRows) {
  // The epilogue pairs n8 tile 2P (gate) with 2P + 1 (up), column by column, at offset 8P + column.
  for (int P = 0; P < kMoeFastBN / 16; ++P)
    for (int c = 0; c < 8; ++c) {
      const FusedWeightRow g = fused_gate_up_row(16 * P + c), u = fused_gate_up_row(16 * P + 8 + c);
      EXPECT_EQ(g.up, 0);
      EXPECT_EQ(u.up, 1);
      EXPECT_EQ(g.offset, 8 * P + c);
      EXPECT_EQ(u.offset, 8 * P + c);
    }
}

TEST(MoeFastLayout, AccumulatorPositionsCoverTheTileOnce) {
  std::set<std::pair<int, int>> seen;
  for (int lane = 0; lane < 32; ++lane)
    for (int reg = 0; reg < 4; ++reg) {
      const FragPos p = mma_acc_pos(lane, reg);
      EXPECT_LT(p.row, 16);
      EXPECT_LT(p.col, 8);
      seen.insert({p.row, p.col});
    }
  EXPECT_EQ(seen.size(), 128u);
}

// ldmatrix.x4: lanes 8m..8m+7 give the row addresses of matrix m; lane T receives in register m the
// elements (2·(T%4), +1) of row T/4 of matrix m.
FragPos ldmatrix_element(FragPos (*src)(int), int lane, int reg) {
  const FragPos row_start = src(8 * reg + lane / 4);
  return {row_start.row, row_start.col + 2 * (lane % 4)};
}

TEST(MoeFastLayout, LdmatrixGivesTheMmaAFragment) {
  // PTX m16n8k16 A (bf16): register r of lane T holds row T/4 + 8·(r%2), k 2·(T%4) + 8·(r/2).
  for (int lane = 0; lane < 32; ++lane)
    for (int reg = 0; reg < 4; ++reg) {
      const FragPos got = ldmatrix_element(ldmatrix_a_src, lane, reg);
      EXPECT_EQ(got.row, lane / 4 + 8 * (reg % 2)) << lane << " " << reg;
      EXPECT_EQ(got.col, 2 * (lane % 4) + 8 * (reg / 2)) << lane << " " << reg;
    }
}

TEST(MoeFastLayout, LdmatrixGivesTheMmaBFragmentsOfTwoN8Tiles) {
  // PTX m16n8k16 B (bf16, "col"): register r of lane T holds n T/4, k 2·(T%4) + 8·r. Registers 0, 1 of
  // the x4 load are n8 tile 0's, 2, 3 tile 1's (n + 8); the staged W tile is [n][k].
  for (int lane = 0; lane < 32; ++lane)
    for (int reg = 0; reg < 4; ++reg) {
      const FragPos got = ldmatrix_element(ldmatrix_b_src, lane, reg);
      EXPECT_EQ(got.row, lane / 4 + 8 * (reg / 2)) << lane << " " << reg;
      EXPECT_EQ(got.col, 2 * (lane % 4) + 8 * (reg % 2)) << lane << " " << reg;
    }
}

TEST(MoeFastLayout, StagingWritesEveryTileElementOnce) {
  std::set<std::pair<int, int>> a;
  for (int i = 0; i < 2 * kMoeFastThreads; ++i) {
    const FragPos p = a_piece(i);
    EXPECT_LT(p.row, kMoeFastBM);
    for (int e = 0; e < 8; ++e) a.insert({p.row, p.col + e});
  }
  EXPECT_EQ(a.size(), static_cast<size_t>(kMoeFastBM * kMoeFastBK));
  std::set<std::pair<int, int>> w;
  for (int t = 0; t < kMoeFastThreads; ++t) {
    const FragPos p = w_piece(t);
    EXPECT_LT(p.row, kMoeFastBN);
    for (int e = 0; e < 32; ++e) w.insert({p.row, p.col + e});
  }
  EXPECT_EQ(w.size(), static_cast<size_t>(kMoeFastBN * kMoeFastBK));
  // 16-byte aligned staged rows (cp.async and the uint4 stores of decoded W).
  EXPECT_EQ(kMoeFastLds * 2 % 16, 0);
}

}  // namespace
}  // namespace hearth::engine::cuda
