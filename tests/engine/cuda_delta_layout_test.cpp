// The chunked delta rule kernels' index mappings (engine/cuda/delta/delta_chunked_layout.h), checked on the
// CPU: every element of each kernel's tiles owned by exactly one thread, workspace slots disjoint.
#include <gtest/gtest.h>

#include <vector>

#include "engine/cuda/delta/delta_chunked_layout.h"

namespace hearth::engine::cuda::delta_layout {
namespace {

TEST(DeltaChunkedLayout, MmaAccumulatorEntriesCoverTheSixteenByEightTileOnceEach) {
  std::vector<int> owners(16 * 8, 0);
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      const int r = mma_acc_row(lane, i), c = mma_acc_col(lane, i);
      ASSERT_TRUE(r >= 0 && r < 16 && c >= 0 && c < 8) << "lane " << lane << " entry " << i;
      ++owners[r * 8 + c];
    }
  for (int e = 0; e < 16 * 8; ++e) EXPECT_EQ(owners[e], 1) << "element " << e;
  // Entries 0, 1 (and 2, 3) are neighbours in a row: the kernels store them as one float2.
  for (int lane = 0; lane < 32; ++lane) {
    EXPECT_EQ(mma_acc_col(lane, 0) % 2, 0);
    EXPECT_EQ(mma_acc_col(lane, 1), mma_acc_col(lane, 0) + 1);
    EXPECT_EQ(mma_acc_row(lane, 1), mma_acc_row(lane, 0));
  }
}

TEST(DeltaChunkedLayout, FragmentReadsOfPaddedRowsFallInThirtyTwoBanks) {
  // A fragments (and prepare's B fragments) read row g, column t of rows padded to 132 floats; the walk's
  // transposed k reads row t, column g of rows padded to 136, and its B operands row t, column g of rows
  // padded to 40 (U, S, V'). Each pattern must hit 32 different banks.
  const auto banks_distinct = [](int stride, bool rows_by_g) {
    std::vector<int> seen(32, 0);
    for (int lane = 0; lane < 32; ++lane) {
      const int g = lane >> 2, t = lane & 3;
      const int e = rows_by_g ? g * stride + t : t * stride + g;
      if (seen[e % 32]++) return false;
    }
    return true;
  };
  EXPECT_TRUE(banks_distinct(kDim + 4, true));
  EXPECT_TRUE(banks_distinct(kChunk + 4, true));
  EXPECT_TRUE(banks_distinct(kDim + 8, false));
  EXPECT_TRUE(banks_distinct(kColumns + 8, false));
  EXPECT_FALSE(banks_distinct(kDim, true)) << "unpadded rows would conflict (the check can fail)";
}

TEST(DeltaChunkedLayout, WalkWarpsCoverChunkRowsAndStateRowsOnceEach) {
  std::vector<int> rows(kChunk, 0), state_rows(kDim, 0);
  for (int warp = 0; warp < kWarps; ++warp) {
    for (int u = 0; u < kRowsPerWarp; ++u) ++rows[walk_row0(warp) + u];
    for (int u = 0; u < kStateRowsPerWarp; ++u) ++state_rows[walk_state_row0(warp) + u];
    EXPECT_EQ(walk_state_row0(warp) % 4, 0) << "state rows are read as float4";
  }
  for (int r : rows) EXPECT_EQ(r, 1);
  for (int r : state_rows) EXPECT_EQ(r, 1);
}

TEST(DeltaChunkedLayout, ChunkCountRoundsUpAndWorkspaceSlotsAreDisjointAndAligned) {
  EXPECT_EQ(chunk_count(1), 1);
  EXPECT_EQ(chunk_count(64), 1);
  EXPECT_EQ(chunk_count(65), 2);
  EXPECT_EQ(chunk_count(1024), 16);
  const int heads = 3, chunks = static_cast<int>(chunk_count(200));
  int64_t expect = 0;
  for (int h = 0; h < heads; ++h)
    for (int c = 0; c < chunks; ++c) {
      EXPECT_EQ(workspace_offset(h, c, chunks), expect) << "slots follow each other without gaps or overlap";
      EXPECT_EQ(workspace_offset(h, c, chunks) % 4, 0) << "read as float4";
      expect += kWorkspaceFloats;
    }
}

TEST(DeltaChunkedLayout, WorkspaceSlotPartsFollowEachOtherAlignedForSixteenByteCopies) {
  // The tensor-core walk copies W, intra and fq, fk + decay as 16-byte pieces from each slot.
  EXPECT_EQ(kIntraOffset, int64_t{kChunk} * kDim);
  EXPECT_EQ(kFqOffset, kIntraOffset + int64_t{kChunk} * kChunk);
  EXPECT_EQ(kFkOffset, kFqOffset + kChunk);
  EXPECT_EQ(kDecayOffset, kFkOffset + kChunk);
  EXPECT_EQ(kWorkspaceFloats, kDecayOffset + 4);
  for (int64_t offset : {kIntraOffset, kFqOffset, kFkOffset, kWorkspaceFloats}) EXPECT_EQ(offset % 4, 0) << offset;
}

}  // namespace
}  // namespace hearth::engine::cuda::delta_layout
