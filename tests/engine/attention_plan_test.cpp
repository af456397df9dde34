// The work plan of the streaming decode attention (src/engine/cuda/attention/attention_plan.h), on the CPU: every
// cache length up to the capacity is cut into pieces that cover it exactly, within the grid and
// workspace sized from the capacity alone (what keeps a recorded graph valid as the sequence grows), and
// the reduce-scatter index formula matches a lane-by-lane simulation of the kernel's butterfly.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "engine/cuda/attention/attention_plan.h"

namespace hearth::engine::cuda {
namespace {

TEST(AttentionPlanTest, PiecesCoverEveryLengthWithinTheCapacityBound) {
  for (const int64_t capacity : {1, 31, 32, 33, 1000, 4096, 40000, 65536, 262144}) {
    for (const int sms : {1, 78, 132}) {
      for (const int kv_heads : {1, 2, 4}) {
        for (const int chunks : {1, 2, 8}) {
          const int64_t target = decode_piece_target(sms, kv_heads, chunks);
          const int64_t bound = decode_piece_bound(capacity, target);
          const int64_t step = capacity > 5000 ? 97 : 1;  // long capacities: a stride plus the edges
          for (int64_t length = 1; length <= capacity; length = length == capacity ? capacity + 1 : std::min(capacity, length + step)) {
            const DecodePieces p = decode_pieces(length, target);
            ASSERT_EQ(p.len % kDecodeMinPiece, 0) << length;
            ASSERT_GE(p.len, kDecodeMinPiece);
            ASSERT_LE(p.len, kDecodeMaxPiece);
            ASSERT_GE(p.count * p.len, length) << "pieces must cover the length " << length;
            ASSERT_LT((p.count - 1) * p.len, length) << "no empty piece at length " << length;
            ASSERT_LE(p.count, bound) << "capacity " << capacity << " length " << length << " target " << target;
          }
        }
      }
    }
  }
}

TEST(AttentionPlanTest, WorkspaceBoundCoversEveryKvHeadCount) {
  // The workspace is sized from (heads, n) alone; the launch's bound for any KV-head count must fit.
  for (const int sms : {1, 132}) {
    for (int heads = 1; heads <= 40; ++heads) {
      for (int kv = 1; kv <= heads; ++kv) {
        if (heads % kv != 0) continue;
        for (int64_t n = 1; n <= 8; ++n) {
          for (const int64_t capacity : {1, 1000, 40000, 300000}) {
            const int64_t used = decode_piece_bound(capacity, decode_piece_target(sms, kv, decode_row_chunks(n, heads / kv)));
            ASSERT_LE(used, decode_workspace_piece_bound(capacity, sms, heads, n))
                << "heads " << heads << " kv " << kv << " n " << n << " capacity " << capacity;
          }
        }
      }
    }
  }
}

TEST(AttentionPlanTest, PieceTargetFillsTheSms) {
  // 35B-A3B at n = 1: 2 KV heads, one chunk of 8 rows (8 query heads per KV head) on 132 SMs.
  EXPECT_EQ(decode_row_chunks(1, 8), 1);
  EXPECT_EQ(decode_row_chunks(2, 8), 2);
  EXPECT_EQ(decode_row_chunks(1, 6), 1);
  EXPECT_EQ(decode_row_chunks(8, 6), 6);
  const int64_t target = decode_piece_target(132, 2, 1);
  EXPECT_GE(target * 2, 4 * 132);
  // At 32k the pieces are a few hundred keys: enough blocks, each streaming a long run.
  const DecodePieces p = decode_pieces(32768, target);
  EXPECT_GE(p.count * 2, 200);
  EXPECT_GE(p.len, 128);
}

// The kernel's reduce_scatter, simulated over a whole group of lanes at once.
template <int N, int LPK>
std::array<std::array<float, N>, LPK> simulate_reduce_scatter(std::array<std::array<float, N>, LPK> v) {
  int count = N;
  for (int o = LPK / 2; o >= 1; o /= 2) {
    const int half = count / 2;
    auto next = v;
    for (int lane = 0; lane < LPK; ++lane) {
      const bool upper = (lane & o) != 0;
      const bool partner_upper = !upper;
      for (int i = 0; i < half; ++i) {
        const float mine = upper ? v[lane][i + half] : v[lane][i];
        const auto& pv = v[lane ^ o];
        const float received = partner_upper ? pv[i] : pv[i + half];  // what the partner sends
        next[lane][i] = mine + received;
      }
    }
    v = next;
    count = half;
  }
  return v;
}

template <int N, int LPK>
void check_reduce_scatter() {
  std::array<std::array<float, N>, LPK> v{};
  std::array<float, N> total{};
  for (int lane = 0; lane < LPK; ++lane)
    for (int i = 0; i < N; ++i) {
      v[lane][i] = static_cast<float>((lane + 1) * 100 + i * 7 + (lane * i) % 5);
      total[i] += v[lane][i];
    }
  const auto out = simulate_reduce_scatter<N, LPK>(v);
  for (int lane = 0; lane < LPK; ++lane)
    for (int i = 0; i < N / LPK; ++i)
      EXPECT_EQ(out[lane][i], total[reduce_scatter_index(lane, i, N, LPK)]) << "lane " << lane << " slot " << i;
}

TEST(AttentionPlanTest, ReduceScatterIndexMatchesTheButterfly) {
  check_reduce_scatter<8, 8>();
  check_reduce_scatter<8, 4>();
  check_reduce_scatter<8, 2>();
  check_reduce_scatter<16, 8>();
}

}  // namespace
}  // namespace hearth::engine::cuda
