// The paged KV cache (engine/kv_pages.h) on host memory: page sizes, reference counts, the reclaimer,
// and what copy on write must guarantee — a sequence sees exactly the rows it wrote or adopted, never
// another holder's, and shares pages without copying when nobody needs the rows it overwrites.
#include <gtest/gtest.h>

#include <numeric>

#include "engine/cpu/cpu_ops.h"
#include "engine/kv_pages.h"
#include "util/error.h"

namespace hearth::engine {
namespace {

constexpr int64_t kRow = 32;   // floats per row: 128 bytes
constexpr int64_t kPage = 32;  // positions per page: 4 KiB chunks

struct PoolFixture {
  explicit PoolFixture(int64_t pages, int64_t layers = 2, int64_t capacity = 4 * kPage) {
    KvGeometry g;
    g.layers = layers;
    g.row_floats = kRow;
    g.page_tokens = kPage;
    g.capacity = capacity;
    pool = std::make_unique<KvPagePool>(ops, ops.make_page_memory(), g, pages);
  }
  cpu::CpuOps ops{1};
  std::unique_ptr<KvPagePool> pool;
};

// Writes `value + row` into every float of rows [first, first + count) of every layer's K and V.
void write_rows(KvSequence& s, int64_t layers, int64_t first, int64_t count, float value) {
  s.prepare_write(first, count);
  for (int64_t l = 0; l < layers; ++l) {
    for (const Tensor& t : {s.k(l), s.v(l)}) {
      for (int64_t r = first; r < first + count; ++r) std::fill_n(t.row(r), kRow, value + static_cast<float>(r));
    }
  }
}

// True when every float of rows [first, first + count) is `value + row`.
bool rows_hold(const KvSequence& s, int64_t layers, int64_t first, int64_t count, float value) {
  for (int64_t l = 0; l < layers; ++l) {
    for (const Tensor& t : {s.k(l), s.v(l)}) {
      for (int64_t r = first; r < first + count; ++r) {
        for (int64_t c = 0; c < kRow; ++c) {
          if (t.row(r)[c] != value + static_cast<float>(r)) return false;
        }
      }
    }
  }
  return true;
}

TEST(KvPageSize, IsTheSmallestWholeNumberOfGranulesAtLeastTheMinimum) {
  EXPECT_EQ(choose_page_tokens(2048, 4096, 0), 2);
  EXPECT_EQ(choose_page_tokens(2048, size_t{2} << 20, size_t{2} << 20), 1024);  // 35B-A3B rows on a GPU
  EXPECT_EQ(choose_page_tokens(4096, size_t{2} << 20, size_t{2} << 20), 512);   // 27B rows
  EXPECT_EQ(choose_page_tokens(96, 4096, 0), 128);                              // 12 KiB: 3 granules
  EXPECT_EQ(choose_page_tokens(128, 4096, size_t{256} << 10), 2048);
  EXPECT_THROW(choose_page_tokens(0, 4096, 0), Error);
}

TEST(KvPagePool, CountsReferencesAndFreesAPageWithItsLastOne) {
  PoolFixture f(2);
  KvPagePool& pool = *f.pool;
  EXPECT_EQ(pool.free_pages(), 2);
  const PageId a = pool.allocate();
  pool.retain(a);
  EXPECT_EQ(pool.refs(a), 2);
  pool.release(a);
  EXPECT_EQ(pool.free_pages(), 1);
  pool.release(a);
  EXPECT_EQ(pool.free_pages(), 2);
  EXPECT_THROW(pool.release(a), Error);  // already free
}

TEST(KvPagePool, AsksTheReclaimerWhenEmptyAndSaysOutOfMemoryWhenNothingIsLeft) {
  PoolFixture f(1);
  KvPagePool& pool = *f.pool;
  const PageId held = pool.allocate();
  try {
    pool.allocate();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::out_of_memory);
  }
  int calls = 0;
  pool.set_reclaimer([&] {
    ++calls;
    if (calls < 3) return true;  // "released" something that freed no page yet
    pool.release(held);
    return true;
  });
  EXPECT_EQ(pool.allocate(), held);
  EXPECT_EQ(calls, 3);
}

TEST(KvSequence, RowsWrittenAreReadBackThroughTheMappedPages) {
  PoolFixture f(8);
  KvSequence s(*f.pool);
  write_rows(s, 2, 0, 70, 1000.0f);  // three pages, the last partly
  EXPECT_TRUE(rows_hold(s, 2, 0, 70, 1000.0f));
  EXPECT_EQ(f.pool->free_pages(), 5);
  s.clear();
  EXPECT_EQ(f.pool->free_pages(), 8);
}

TEST(KvSequence, SharingAndContinuingFromTheSharedPositionCopiesNothing) {
  PoolFixture f(8);
  KvSequence live(*f.pool);
  write_rows(live, 2, 0, 40, 0.0f);
  std::vector<PageId> checkpoint = live.share(40);  // what a snapshot at 40 holds
  const std::vector<PageId> before = live.pages();
  write_rows(live, 2, 40, 20, 0.0f);  // the same sequence goes on in the shared page
  EXPECT_EQ(live.pages(), before);    // no page was replaced
  EXPECT_EQ(f.pool->free_pages(), 6);

  // A second sequence continuing the checkpoint must copy the page the first wrote past 40 in.
  KvSequence branch(*f.pool);
  branch.adopt(checkpoint);
  write_rows(branch, 2, 40, 5, 5000.0f);
  EXPECT_EQ(branch.pages()[0], checkpoint[0]);  // the full page stays shared
  EXPECT_NE(branch.pages()[1], checkpoint[1]);  // the partial one was copied
  EXPECT_TRUE(rows_hold(branch, 2, 0, 40, 0.0f));
  EXPECT_TRUE(rows_hold(branch, 2, 40, 5, 5000.0f));
  EXPECT_TRUE(rows_hold(live, 2, 0, 60, 0.0f));  // untouched by the branch
  for (PageId p : checkpoint) f.pool->release(p);
}

TEST(KvSequence, AdoptMapsOnlyWhereThePagesDifferAndReleasesTheRest) {
  PoolFixture f(8);
  KvSequence s(*f.pool);
  write_rows(s, 2, 0, 90, 0.0f);  // pages 0..2
  std::vector<PageId> first_two = s.share(40);
  write_rows(s, 2, 90, 10, 0.0f);
  s.adopt(first_two);  // back to the checkpoint at 40: the third page goes
  EXPECT_EQ(s.pages()[0], first_two[0]);
  EXPECT_EQ(s.pages()[1], first_two[1]);
  EXPECT_EQ(s.pages()[2], kNoPage);
  EXPECT_EQ(f.pool->refs(first_two[0]), 2);
  EXPECT_TRUE(rows_hold(s, 2, 0, 40, 0.0f));
  for (PageId p : first_two) f.pool->release(p);
  s.clear();
  EXPECT_EQ(f.pool->free_pages(), 8);
}

TEST(KvSequence, WritesOutsideTheCapacityAreRejected) {
  PoolFixture f(8);
  KvSequence s(*f.pool);
  EXPECT_THROW(s.prepare_write(4 * kPage - 2, 3), Error);
  EXPECT_THROW(s.share(10), Error);  // never written
}

}  // namespace
}  // namespace hearth::engine

namespace hearth::engine {
namespace {

TEST(KvPagePool, UnmappedPagesCountThoseOnlySnapshotsHold) {
  PoolFixture f(8);
  KvSequence a(*f.pool), b(*f.pool);
  write_rows(a, 2, 0, 3 * kPage, 1.0f);
  EXPECT_EQ(f.pool->unmapped_pages(), 0);  // all mapped by a
  std::vector<PageId> held = a.share(2 * kPage);  // a checkpoint of the first two pages
  EXPECT_EQ(f.pool->unmapped_pages(), 0);  // still mapped by a
  b.adopt(held);                            // another sequence maps them too
  a.clear();                                // a moves on: its third page is freed, two stay mapped by b
  EXPECT_EQ(f.pool->unmapped_pages(), 0);
  b.clear();                                // now only the checkpoint holds them
  EXPECT_EQ(f.pool->unmapped_pages(), 2);
  b.adopt(std::span<const PageId>(held).first(1));  // restored in part
  EXPECT_EQ(f.pool->unmapped_pages(), 1);
  b.clear();
  for (PageId p : held) f.pool->release(p);  // the checkpoint dropped
  EXPECT_EQ(f.pool->unmapped_pages(), 0);
  EXPECT_EQ(f.pool->free_pages(), 8);
}

TEST(KvPagePool, CopyOnWriteLeavesTheSharedPageCountedOnceUnmapped) {
  PoolFixture f(8);
  KvSequence a(*f.pool);
  write_rows(a, 2, 0, kPage, 1.0f);
  std::vector<PageId> held = a.share(kPage / 2);  // shares the page, rows above still a's own
  write_rows(a, 2, 0, 4, 2.0f);                   // overwrites rows the checkpoint needs: copy on write
  EXPECT_EQ(f.pool->unmapped_pages(), 1);         // the old page, now the checkpoint's alone
  a.clear();
  EXPECT_EQ(f.pool->unmapped_pages(), 1);
  for (PageId p : held) f.pool->release(p);
  EXPECT_EQ(f.pool->unmapped_pages(), 0);
}

}  // namespace
}  // namespace hearth::engine
