#pragma once
// How the streaming decode attention (attention_decode.cu) cuts the work, as plain functions shared by the
// host launch, the kernels and the CPU unit tests (tests/engine/attention_plan_test.cpp).
//
// A decode step attends n <= kAttentionDecodeMaxQueries queries of every head to the whole cache. One
// block per (KV head, piece of the sequence, chunk of up to kDecodeRowsPerBlock query rows): the rows of
// a chunk are the (query, head) pairs of ONE KV head, so every K/V row of the piece is read once per
// chunk. The piece length follows the CURRENT length (read from device memory inside a recorded graph),
// so short caches are spread over many SMs as well as long ones, while the grid and the workspace are
// sized from the cache CAPACITY: a recorded graph stays valid as the sequence grows, pieces past the end
// exit at once.
#include <cstdint>

#include "engine/cuda/common/host_device.h"

namespace hearth::engine::cuda {

constexpr int kDecodeRowsPerBlock = 8;     // query rows (query × head of one KV head) per block
constexpr int64_t kDecodeMinPiece = 32;    // keys; a multiple of the 32-key step of the kernels
constexpr int64_t kDecodeMaxPiece = 1024;  // bounds the per-block score buffer (rows × piece floats)

// Chunks of kDecodeRowsPerBlock rows for n queries of `group` heads per KV head.
HEARTH_HOST_DEVICE constexpr int decode_row_chunks(int64_t n, int group) {
  return static_cast<int>((n * group + kDecodeRowsPerBlock - 1) / kDecodeRowsPerBlock);
}

// Pieces wanted per (KV head, row chunk) so that about four blocks per SM have work: blocks in
// different phases (K pass, V pass) keep loads in flight while others synchronise.
HEARTH_HOST_DEVICE constexpr int64_t decode_piece_target(int sm_count, int kv_heads, int row_chunks) {
  const int64_t per_piece = static_cast<int64_t>(kv_heads) * row_chunks;
  const int64_t want = 4 * static_cast<int64_t>(sm_count > 0 ? sm_count : 1);
  const int64_t t = (want + per_piece - 1) / per_piece;
  return t > 0 ? t : 1;
}

struct DecodePieces {
  int64_t len = 0;    // keys per piece: a multiple of kDecodeMinPiece, at most kDecodeMaxPiece
  int64_t count = 0;  // ceil(length / len)
};

// The pieces of `length` cached keys (length >= 1) for a wanted number of pieces.
HEARTH_HOST_DEVICE constexpr DecodePieces decode_pieces(int64_t length, int64_t target) {
  int64_t len = (length + target - 1) / target;
  len = (len + kDecodeMinPiece - 1) / kDecodeMinPiece * kDecodeMinPiece;
  if (len < kDecodeMinPiece) len = kDecodeMinPiece;
  if (len > kDecodeMaxPiece) len = kDecodeMaxPiece;
  return {len, (length + len - 1) / len};
}

// An upper bound of decode_pieces(length, target).count over 1 <= length <= capacity: the grid's piece
// dimension and the workspace use it. Below the cap, len >= length / target gives count <= target; at
// the cap, count <= ceil(capacity / kDecodeMaxPiece).
HEARTH_HOST_DEVICE constexpr int64_t decode_piece_bound(int64_t capacity, int64_t target) {
  const int64_t capped = (capacity + kDecodeMaxPiece - 1) / kDecodeMaxPiece;
  return target > capped ? target : capped;
}

// A piece bound valid for every KV-head count of `heads` query heads and n queries (the workspace is
// sized without knowing the KV heads): kv_heads · ceil(n · heads / kv_heads / 8) >= ceil(n · heads / 8),
// and the target shrinks as the blocks per piece grow.
HEARTH_HOST_DEVICE constexpr int64_t decode_workspace_piece_bound(int64_t capacity, int sm_count, int heads, int64_t n) {
  return decode_piece_bound(capacity, decode_piece_target(sm_count, 1, decode_row_chunks(n, heads)));
}

// After a reduce-scatter of `values` numbers over a group of `lanes` lanes (both powers of two,
// values >= lanes), lane `lane_in_group` holds the full sums of these original indices, i = 0 .. values /
// lanes - 1: each halving step keeps the upper half on the lane whose bit of that step is set.
HEARTH_HOST_DEVICE constexpr int reduce_scatter_index(int lane_in_group, int i, int values, int lanes) {
  return lane_in_group * (values / lanes) + i;
}

}  // namespace hearth::engine::cuda
