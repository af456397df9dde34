// CPU tests of the tensor-core matrix-vector kernel's index mapping (matvec_tc_layout.h): the very
// functions the kernel runs, composed with the documented m16n8k16 fragment layout, must give the
// plain product of the packed codes with the input.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "engine/cuda/matvec/matvec_check.h"
#include "engine/cuda/matvec/matvec_stream_layout.h"
#include "engine/cuda/matvec/matvec_tc_layout.h"
#include "engine/weight_formats.h"
#include "util/error.h"

namespace hearth::engine::cuda::tc {
namespace {

std::mt19937_64& rng() {
  static std::mt19937_64 r(5);
  return r;
}

// Codes of one 16 × 64 k-tile packed as MLX affine `bits` rows, decoded back through weight_element
// (scale 1, bias 0) so the test checks against the format's own definition.
struct PackedTile {
  std::vector<uint8_t> data;
  std::vector<uint16_t> scales, biases;
  WeightMatrix m;
  int code(int row, int col) const { return static_cast<int>(weight_element(m, row, col)); }
  uint32_t word(int row, int index) const {
    uint32_t w;
    std::memcpy(&w, data.data() + row * m.row_bytes() + 4 * index, 4);
    return w;
  }
};

PackedTile random_tile(int bits) {
  PackedTile p;
  p.m.format = WeightFormat::affine;
  p.m.dtype = DType::bf16;
  p.m.rows = kTileRows;
  p.m.cols = kTileCols;
  p.m.bits = bits;
  p.m.group_size = 64;
  p.data.resize(p.m.data_bytes());
  for (auto& b : p.data) b = static_cast<uint8_t>(rng()());
  p.scales.assign(kTileRows, f32_to_bf16(1.0f));
  p.biases.assign(kTileRows, f32_to_bf16(0.0f));
  p.m.data = p.data.data();
  p.m.scales = p.scales.data();
  p.m.biases = p.biases.data();
  return p;
}

// A register (m, upper) of row `row` for lane t, as the kernel builds it.
uint32_t a_register(const PackedTile& p, int bits, int row, int t, int m, int upper) {
  if (bits == 4) return a_reg_4bit(p.word(row, 2 * t), p.word(row, 2 * t + 1), m, upper);
  const uint32_t w[4] = {p.word(row, 4 * t), p.word(row, 4 * t + 1), p.word(row, 4 * t + 2), p.word(row, 4 * t + 3)};
  return a_reg_8bit(w, m, upper);
}

TEST(MatvecTcLayout, TileColumnVisitsEveryColumnOnce) {
  std::set<int> seen;
  for (int m = 0; m < 4; ++m)
    for (int k = 0; k < 16; ++k) {
      const int c = tile_column(m, k);
      EXPECT_GE(c, 0);
      EXPECT_LT(c, kTileCols);
      seen.insert(c);
    }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTileCols));
}

TEST(MatvecTcLayout, LaneOnlyTouchesItsOwnSixteenColumns) {
  // The quad's lanes load columns [16t, 16t + 16): every k a lane holds must come from there.
  for (int m = 0; m < 4; ++m)
    for (int k = 0; k < 16; ++k) EXPECT_EQ(tile_column(m, k) / 16, (k & 7) >> 1) << "m " << m << " k " << k;
}

TEST(MatvecTcLayout, BSlotIsWhereTheLaneReadsItsBRegisters) {
  std::set<int> slots;
  for (int m = 0; m < 4; ++m)
    for (int k = 0; k < 16; ++k) {
      const int t = (k & 7) >> 1, upper = k >> 3, half = k & 1;
      EXPECT_EQ(b_slot(tile_column(m, k)), t * 16 + m * 4 + upper * 2 + half) << "m " << m << " k " << k;
      slots.insert(b_slot(tile_column(m, k)));
    }
  EXPECT_EQ(slots.size(), static_cast<size_t>(kTileCols));
}

class MatvecTcBits : public ::testing::TestWithParam<int> {};

TEST_P(MatvecTcBits, ARegistersHoldTheCodesOfTheirColumns) {
  const int bits = GetParam();
  const PackedTile p = random_tile(bits);
  for (int row = 0; row < kTileRows; ++row)
    for (int t = 0; t < 4; ++t)
      for (int m = 0; m < 4; ++m)
        for (int upper = 0; upper < 2; ++upper) {
          const uint32_t reg = a_register(p, bits, row, t, m, upper);
          EXPECT_EQ(reg & 0xFC00FC00u, 0x64006400u);  // 1024 + q: exponent bits of 1024 in both halves
          for (int half = 0; half < 2; ++half) {
            const int k = 8 * upper + 2 * t + half;
            EXPECT_EQ(a_code(reg, half), p.code(row, tile_column(m, k))) << "row " << row << " t " << t << " m " << m;
          }
        }
}

// Emulates one warp's 4 MMAs per the PTX fragment layout of m16n8k16 (A: lane (r % 8)·4 + (k % 8)/2,
// register (r / 8) + 2·(k / 8), half k % 2; B: lane n·4 + (k % 8)/2, register k / 8, half k % 2) on
// integer inputs, and compares D with the direct product over the tile's columns — exactly.
TEST_P(MatvecTcBits, WarpOfFourMmasComputesTheTileProduct) {
  const int bits = GetParam();
  const PackedTile p = random_tile(bits);
  // Staged input: 8 B columns, each 64 small integers placed by b_slot.
  std::vector<int> x(8 * kTileCols), staged(8 * kTileCols);
  for (int n = 0; n < 8; ++n)
    for (int c = 0; c < kTileCols; ++c) {
      x[n * kTileCols + c] = static_cast<int>(rng()() % 41) - 20;
      staged[n * kTileCols + b_slot(c)] = x[n * kTileCols + c];
    }
  std::vector<int64_t> d(kTileRows * 8, 0);
  for (int m = 0; m < 4; ++m) {
    // Registers of every lane.
    uint32_t a[32][4];
    int b[32][2][2];
    for (int lane = 0; lane < 32; ++lane) {
      const int g = lane >> 2, t = lane & 3;
      a[lane][0] = a_register(p, bits, g, t, m, 0);
      a[lane][1] = a_register(p, bits, g + 8, t, m, 0);
      a[lane][2] = a_register(p, bits, g, t, m, 1);
      a[lane][3] = a_register(p, bits, g + 8, t, m, 1);
      for (int reg = 0; reg < 2; ++reg)
        for (int half = 0; half < 2; ++half) b[lane][reg][half] = staged[g * kTileCols + t * 16 + m * 4 + reg * 2 + half];
    }
    for (int r = 0; r < kTileRows; ++r)
      for (int n = 0; n < 8; ++n)
        for (int k = 0; k < 16; ++k) {
          const int a_lane = (r % 8) * 4 + (k % 8) / 2, b_lane = n * 4 + (k % 8) / 2;
          const int av = a_code(a[a_lane][(r / 8) + 2 * (k / 8)], k % 2);
          d[r * 8 + n] += static_cast<int64_t>(av) * b[b_lane][k / 8][k % 2];
        }
  }
  for (int r = 0; r < kTileRows; ++r)
    for (int n = 0; n < 8; ++n) {
      int64_t want = 0;
      for (int c = 0; c < kTileCols; ++c) want += static_cast<int64_t>(p.code(r, c)) * x[n * kTileCols + c];
      EXPECT_EQ(d[r * 8 + n], want) << "row " << r << " column " << n;
    }
}

INSTANTIATE_TEST_SUITE_P(Bits, MatvecTcBits, ::testing::Values(4, 8),
                         [](const ::testing::TestParamInfo<int>& info) { return std::to_string(info.param) + "bit"; });

TEST(MatvecTcLayout, CFragmentLaneAndRegisterInvertRowAndColumn) {
  for (int lane = 0; lane < 32; ++lane)
    for (int j = 0; j < 4; ++j) {
      EXPECT_EQ(c_lane(c_row(lane, j), c_col(lane, j)), lane);
      EXPECT_EQ(c_reg(c_row(lane, j), c_col(lane, j)), j);
    }
}

// The launch plan: slices of whole k-tiles that fit the shared-memory budget, every model shape's
// decode step (one token) in a single slice, warps split so each has at least one round of k-tiles.
TEST(MatvecTcPlan, SlicesFitTheBudgetAndCoverTheColumns) {
  for (int n = 1; n <= 8; ++n)
    for (int64_t cols : {64, 192, 512, 2048, 4096, 5120, 6144, 17408, 64 * 1001}) {
      const Plan p = plan(n, cols);
      EXPECT_EQ(p.slice_cols % kTileCols, 0);
      EXPECT_GE(p.slice_cols, kTileCols);
      EXPECT_LE(p.slice_cols, cols);
      EXPECT_LE(p.smem_bytes, kSmemBudget) << "n " << n << " cols " << cols;
      EXPECT_EQ(p.smem_bytes, staged_bytes(n, p.slice_cols) + sums_bytes(p.slice_cols) + red_bytes(token_sets(n)));
      EXPECT_EQ(kWarps % p.tiles_per_group, 0);
      const int64_t ktiles = p.slice_cols / kTileCols;
      const int wpt = kWarps / p.tiles_per_group;
      if (wpt > 1) {
        EXPECT_GE(ktiles, int64_t{wpt} * kUnroll4) << "n " << n << " cols " << cols;
      }
    }
}

TEST(MatvecTcPlan, OneTokenOfEveryModelWidthIsStagedInOneSlice) {
  for (int64_t cols : {512, 2048, 4096, 5120, 6144, 17408}) EXPECT_EQ(plan(1, cols).slice_cols, cols);
  EXPECT_EQ(plan(8, 2048).slice_cols, 2048);
  EXPECT_LT(plan(8, 17408).slice_cols, 17408);  // several slices, accumulated into y
}

TEST(MatvecTcPlan, StagedRowsStartOnOddSixteenByteBanks) {
  // Row stride in bytes / 16 must be odd, so the eight B rows a quarter-warp reads hit distinct banks.
  for (int n = 1; n <= 8; ++n)
    for (int64_t cols : {64, 2048, 17408}) EXPECT_EQ(((plan(n, cols).slice_cols + kPadHalves) * 2 / 16) % 2, 1);
}

// The streaming kernel's plan (matvec_stream_layout.h): slices cover the columns in equal pieces that
// fit the staging budget, and rows per warp fill kLoadsPerLane without starving small launches.
TEST(MatvecStreamPlan, SlicesFitTheBudgetAndCoverTheColumns) {
  for (int n = 1; n <= 8; ++n)
    for (int64_t chunks : {1, 2, 16, 64, 128, 160, 192, 544, 1000, 4096}) {
      const int64_t slice = stream::slice_chunks(n, chunks);
      ASSERT_GE(slice, 1);
      EXPECT_LE(stream::staged_bytes(n, slice), stream::kStageBudget) << n << " " << chunks;
      const int64_t slices = (chunks + slice - 1) / slice;
      // Equal pieces: the last slice is not a sliver.
      EXPECT_GT(chunks - (slices - 1) * slice, slice / 2 - 1) << n << " " << chunks;
    }
  EXPECT_EQ(stream::slice_chunks(1, 2048 / 32), 2048 / 32);     // 35B-A3B hidden: one slice
  EXPECT_EQ(stream::slice_chunks(1, 17408 / 32), 17408 / 32);   // 27B down projection, one token
}

TEST(MatvecStreamPlan, RowsPerWarpFillTheLoadsInFlightUnlessTheLaunchIsSmall) {
  // 2048 columns of 4 bits: 64 chunks, 2 per lane: 4 rows give 8 loads.
  EXPECT_EQ(stream::rows_per_warp(248320, 64, 1, 132 * 16), 4);
  // 8-bit: two loads per chunk, so 2 rows.
  EXPECT_EQ(stream::rows_per_warp(100000, 64, 2, 132 * 16), 2);
  // 4096 columns: 4 loads per row and lane, 2 rows.
  EXPECT_EQ(stream::rows_per_warp(100000, 128, 1, 132 * 16), 2);
  // Long rows alone fill the loads.
  EXPECT_EQ(stream::rows_per_warp(100000, 544, 1, 132 * 16), 1);
  // Small matrices: one row per warp, so more warps and SMs share them.
  EXPECT_EQ(stream::rows_per_warp(512, 64, 1, 132 * 16), 1);
  for (int64_t rows : {1, 7, 512, 4096, 8192, 248320})
    for (int64_t chunks : {1, 16, 64, 160, 544}) {
      const int r = stream::rows_per_warp(rows, chunks, 1, 132 * 16);
      EXPECT_TRUE(r == 1 || r == 2 || r == 4);
      EXPECT_LE(((chunks + 31) / 32) * r, std::max<int64_t>(stream::kLoadsPerLane, (chunks + 31) / 32));
    }
}

// The single-token kernel's lane-major staging: every (chunk, e4) of a slice gets its own slot inside the
// padded footprint; a warp's 32 lanes read 32 consecutive float4 (no bank conflict); and the kernel's
// address rule holds: slot(lane + 32m, e4) = slot(lane, 0) + 8·32m + 32·e4 (a register plus an immediate).
TEST(MatvecStreamLayout, LaneMajorSlotsAreDistinctConflictFreeAndRegisterPlusImmediate) {
  for (int64_t chunks : {1, 16, 31, 32, 64, 74, 160, 322, 544}) {
    const int64_t padded = stream::lane_major_chunks(chunks);
    EXPECT_EQ(padded % 32, 0);
    EXPECT_GE(padded, chunks);
    EXPECT_LT(padded - chunks, 32);
    std::set<int64_t> seen;
    for (int64_t c = 0; c < chunks; ++c)
      for (int e4 = 0; e4 < 8; ++e4) {
        const int64_t slot = stream::lane_major_slot(c, e4);
        EXPECT_GE(slot, 0);
        EXPECT_LT(slot, padded * 8) << chunks << " " << c << " " << e4;
        EXPECT_TRUE(seen.insert(slot).second) << chunks << " " << c << " " << e4;
        const int64_t lane = c % 32, m = c / 32;
        EXPECT_EQ(slot, stream::lane_major_slot(lane, 0) + 8 * 32 * m + 32 * e4);
      }
  }
  for (int64_t base : {0, 32, 96})
    for (int e4 = 0; e4 < 8; ++e4)
      for (int lane = 1; lane < 32; ++lane)
        EXPECT_EQ(stream::lane_major_slot(base + lane, e4), stream::lane_major_slot(base, e4) + lane);
}

// The matrix-vector launchers' host check (matvec_check.h, run by launch_matvec and launch_matvec_jobs
// before any launch): a quantised matrix whose columns are not a multiple of its group is refused with
// an error naming the matrix, where the kernels would read the wrong scales; whole groups and dense
// matrices pass.
TEST(MatvecWeightCheck, RejectsColumnsThatAreNotAMultipleOfTheGroup) {
  WeightMatrix w;
  w.format = WeightFormat::affine;
  w.bits = 4;
  w.group_size = 64;
  w.dtype = DType::bf16;
  w.rows = 16;
  w.cols = 2048 + 32;
  try {
    check_matvec_weight(w, "launch_matvec_jobs");
    FAIL() << "no error for 2080 columns in groups of 64";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unsupported);
    const std::string what = e.what();
    EXPECT_NE(what.find("launch_matvec_jobs"), std::string::npos) << what;
    EXPECT_NE(what.find("2080"), std::string::npos) << what;
    EXPECT_NE(what.find("64"), std::string::npos) << what;
  }
  w.cols = 2048;
  EXPECT_NO_THROW(check_matvec_weight(w, "launch_matvec_jobs"));
  w.format = WeightFormat::mxfp4;
  w.group_size = 32;
  w.cols = 48;
  EXPECT_THROW(check_matvec_weight(w, "launch_matvec"), Error);
  WeightMatrix dense;
  dense.format = WeightFormat::dense;
  dense.dtype = DType::bf16;
  dense.rows = 4;
  dense.cols = 33;
  EXPECT_NO_THROW(check_matvec_weight(dense, "launch_matvec"));
}

}  // namespace
}  // namespace hearth::engine::cuda::tc
