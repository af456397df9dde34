// The index mappings of the fused MoE decode kernels (src/engine/cuda/moe/moe_fused_layout.h), checked on
// the CPU, with the router's float ordering keys (route_key.h): every (part, row) of gate/up and every (part, chunk) of down is visited exactly once, in
// order, and the h offsets the down kernel stages from are where the gate/up kernel wrote.
#include "engine/cuda/moe/moe_fused_layout.h"

#include <cmath>
#include <limits>
#include <random>
#include "engine/cuda/moe/route_key.h"

#include <gtest/gtest.h>

#include <vector>

namespace hearth::engine::cuda {
namespace {

struct Shape {
  int64_t top_k, inter, shared_inter;
};

const std::vector<Shape> kShapes = {{8, 512, 512}, {8, 512, 0}, {2, 64, 128}, {3, 40, 24}, {1, 1, 0}, {16, 33, 31}};

TEST(MoeFusedLayoutTest, VirtualRowsVisitEveryPartRowOnceInOrder) {
  for (const Shape& s : kShapes) {
    const MoeFusedLayout l = moe_fused_layout(s.top_k, s.inter, s.shared_inter);
    ASSERT_EQ(l.vrows, s.top_k * s.inter + s.shared_inter);
    int64_t v = 0;
    for (int64_t slot = 0; slot <= s.top_k; ++slot) {
      const int64_t rows = slot < s.top_k ? s.inter : s.shared_inter;
      EXPECT_EQ(moe_part_cols(l, slot), rows);
      EXPECT_EQ(moe_part_offset(l, slot), v) << "part " << slot << " starts where the previous ended";
      for (int64_t r = 0; r < rows; ++r, ++v) {
        const MoeVirtualRow vr = moe_virtual_row(l, v);
        ASSERT_EQ(vr.slot, slot) << "v " << v;
        ASSERT_EQ(vr.row, r) << "v " << v;
      }
    }
    EXPECT_EQ(v, l.vrows);
  }
}

TEST(MoeFusedLayoutTest, VirtualChunksGiveEachPartWholeChunksOfItsOwn) {
  for (const Shape& s : kShapes) {
    const MoeFusedLayout l = moe_fused_layout(s.top_k, s.inter, s.shared_inter);
    const int64_t ec = (s.inter + 31) / 32, sc = (s.shared_inter + 31) / 32;
    ASSERT_EQ(l.down_chunks, s.top_k * ec + sc);
    int64_t vc = 0;
    for (int64_t slot = 0; slot <= s.top_k; ++slot) {
      const int64_t chunks = slot < s.top_k ? ec : sc;
      for (int64_t c = 0; c < chunks; ++c, ++vc) {
        const MoeVirtualChunk ch = moe_virtual_chunk(l, vc);
        ASSERT_EQ(ch.slot, slot) << "vc " << vc;
        ASSERT_EQ(ch.chunk, c) << "vc " << vc;
        // The chunk's first column is inside its part (padding only at a part's end).
        EXPECT_LT(ch.chunk * 32, moe_part_cols(l, ch.slot));
      }
    }
    EXPECT_EQ(vc, l.down_chunks);
  }
}

TEST(RouteKeyTest, KeysOrderFloatsAsFloatsAndRoundTrip) {
  std::vector<float> values = {-std::numeric_limits<float>::infinity(), -3.5e38f, -1.0f, -1e-40f, -0.0f, 0.0f,
                               1e-45f, 1e-40f, 1.0f, 1.0000001f, 3.4e38f, std::numeric_limits<float>::infinity()};
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-100.0f, 100.0f);
  for (int i = 0; i < 2000; ++i) values.push_back(u(rng));
  for (const float a : values) {
    EXPECT_EQ(route_key_value(route_key(a)), a);
    EXPECT_EQ(std::signbit(route_key_value(route_key(a))), std::signbit(a));
    for (const float b : {values[0], values[4], values[5], values[8], values[100], values[1500]}) {
      if (a == 0.0f && b == 0.0f) continue;  // ±0: equal floats, distinct keys (callers fold -0 first)
      EXPECT_EQ(a > b, route_key(a) > route_key(b)) << a << " vs " << b;
      EXPECT_EQ(a == b, route_key(a) == route_key(b)) << a << " vs " << b;
    }
  }
  EXPECT_LT(route_key(-0.0f), route_key(0.0f));
}

}  // namespace
}  // namespace hearth::engine::cuda
