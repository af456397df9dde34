// The chunked delta rule kernels' index mappings (engine/cuda/delta_chunked_layout.h), checked on the
// CPU: every element of each kernel's tiles owned by exactly one thread, workspace slots disjoint.
#include <gtest/gtest.h>

#include <vector>

#include "engine/cuda/delta_chunked_layout.h"

namespace hearth::engine::cuda::delta_layout {
namespace {

TEST(DeltaChunkedLayout, ProductTilesCoverTheChunkMatrixOnceEach) {
  std::vector<int> owners(kChunk * kChunk, 0);
  for (int tid = 0; tid < kThreads; ++tid)
    for (int pi = 0; pi < 4; ++pi)
      for (int qj = 0; qj < 4; ++qj) {
        const int i = product_row(tid, pi), j = product_col(tid, qj);
        ASSERT_TRUE(i >= 0 && i < kChunk && j >= 0 && j < kChunk) << "thread " << tid;
        ++owners[i * kChunk + j];
      }
  for (int e = 0; e < kChunk * kChunk; ++e) EXPECT_EQ(owners[e], 1) << "element " << e;
}

TEST(DeltaChunkedLayout, ProductColumnsOfAWarpFallInSixteenBanks) {
  // A warp reads column rows product_col(lane, u) of a [kChunk][kDim + 1] array at one r: the 16
  // distinct rows must sit in 16 different banks (the other half-warp reads the same ones).
  for (int warp = 0; warp < kWarps; ++warp)
    for (int u = 0; u < 4; ++u) {
      std::vector<int> row_of_bank(32, -1);
      for (int lane = 0; lane < 32; ++lane) {
        const int row = product_col(warp * 32 + lane, u);
        const int bank = (row * (kDim + 1)) % 32;
        EXPECT_TRUE(row_of_bank[bank] == -1 || row_of_bank[bank] == row) << "warp " << warp << " u " << u;
        row_of_bank[bank] = row;
      }
    }
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
  // The pipelined walk copies W, intra, fq and fk + decay as 16-byte pieces from each slot.
  EXPECT_EQ(kIntraOffset, int64_t{kChunk} * kDim);
  EXPECT_EQ(kFqOffset, kIntraOffset + int64_t{kChunk} * kChunk);
  EXPECT_EQ(kFkOffset, kFqOffset + kChunk);
  EXPECT_EQ(kDecayOffset, kFkOffset + kChunk);
  EXPECT_EQ(kWorkspaceFloats, kDecayOffset + 4);
  for (int64_t offset : {kIntraOffset, kFqOffset, kFkOffset, kWorkspaceFloats}) EXPECT_EQ(offset % 4, 0) << offset;
}

}  // namespace
}  // namespace hearth::engine::cuda::delta_layout
