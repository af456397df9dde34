// The paged attention-KV cache (engine/kv_pages.h).
#include "engine/kv_pages.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>

#include "util/error.h"

namespace hearth::engine {

int64_t choose_page_tokens(size_t row_bytes, size_t granularity, size_t min_chunk_bytes) {
  if (row_bytes == 0 || granularity == 0) throw Error("KV pages: empty rows or granularity", ErrorKind::internal);
  // The smallest count of rows that fills whole granules, then as many of those as min_chunk_bytes asks.
  const size_t unit = granularity / std::gcd(granularity, row_bytes);
  const size_t unit_bytes = unit * row_bytes;
  const size_t units = std::max<size_t>(1, (min_chunk_bytes + unit_bytes - 1) / unit_bytes);
  return static_cast<int64_t>(unit * units);
}

// ---- the pool ------------------------------------------------------------------------------------

KvPagePool::KvPagePool(Ops& ops, std::unique_ptr<PageMemory> memory, KvGeometry geometry, int64_t pages)
    : ops_(ops), geometry_(geometry), memory_(std::move(memory)) {
  if (geometry_.layers < 0 || pages < 0) throw Error("KV pages: negative geometry", ErrorKind::internal);
  if (geometry_.layers == 0) return;
  if (geometry_.page_tokens <= 0 || geometry_.row_floats <= 0 || geometry_.capacity <= 0 ||
      geometry_.capacity % geometry_.page_tokens != 0) {
    throw Error("KV pages: capacity " + std::to_string(geometry_.capacity) + " is not a positive multiple of the page size " +
                    std::to_string(geometry_.page_tokens),
                ErrorKind::internal);
  }
  if (!memory_) throw Error("KV pages: no page memory", ErrorKind::internal);
  if (geometry_.chunk_bytes() % memory_->granularity() != 0) {
    throw Error("KV pages: a page's chunk (" + std::to_string(geometry_.chunk_bytes()) + " bytes) is not a multiple of " +
                    std::to_string(memory_->granularity()),
                ErrorKind::internal);
  }
  memory_->create_pages(geometry_.chunk_bytes(), static_cast<size_t>(pages * geometry_.chunks()));
  refs_.assign(static_cast<size_t>(pages), 0);
  mapped_.assign(static_cast<size_t>(pages), 0);
  written_.assign(static_cast<size_t>(pages), 0);
  free_.reserve(static_cast<size_t>(pages));
  for (int64_t p = pages - 1; p >= 0; --p) free_.push_back(static_cast<PageId>(p));  // lowest first
}

KvPagePool::~KvPagePool() {
  staging_.reset();  // before the memory it maps
}

PageId KvPagePool::allocate() {
  while (free_.empty()) {
    if (!reclaimer_ || !reclaimer_()) {
      throw Error("the KV cache is full: " + std::to_string(total_pages()) + " pages of " + std::to_string(geometry_.page_tokens) +
                      " positions are all held by running sequences",
                  ErrorKind::out_of_memory);
    }
  }
  const PageId page = free_.back();
  free_.pop_back();
  refs_[static_cast<size_t>(page)] = 1;
  written_[static_cast<size_t>(page)] = 0;
  unmapped_.fetch_add(1, std::memory_order_relaxed);  // until a sequence maps it
  return page;
}

void KvPagePool::retain(PageId page) {
  int32_t& r = refs_.at(static_cast<size_t>(page));
  if (r <= 0) throw Error("KV pages: retain of a free page", ErrorKind::internal);
  ++r;
}

void KvPagePool::release(PageId page) {
  int32_t& r = refs_.at(static_cast<size_t>(page));
  if (r <= 0) throw Error("KV pages: release of a free page", ErrorKind::internal);
  if (--r > 0) return;
  if (mapped_[static_cast<size_t>(page)] == 0) unmapped_.fetch_sub(1, std::memory_order_relaxed);
  for (int64_t c = 0; c < geometry_.chunks(); ++c) memory_->discard(physical(page, c));
  free_.push_back(page);
}

void KvPagePool::mark_written(PageId page, int64_t rows) {
  int64_t& w = written_.at(static_cast<size_t>(page));
  w = std::max(w, rows);
}

void KvPagePool::note_mapped(PageId page, int delta) {
  const size_t p = static_cast<size_t>(page);
  const bool before = unmapped_in_use(p);
  mapped_[p] += delta;
  const bool after = unmapped_in_use(p);
  if (before != after) unmapped_.fetch_add(after ? 1 : -1, std::memory_order_relaxed);
}

KvSequence& KvPagePool::staging() {
  if (!staging_) staging_ = std::make_unique<KvSequence>(*this, false);
  return *staging_;
}

// ---- a sequence ----------------------------------------------------------------------------------

KvSequence::KvSequence(KvPagePool& pool, bool counted) : pool_(pool), counted_(counted) {
  const KvGeometry& g = pool.geometry();
  if (g.layers == 0) return;
  range_bytes_ = g.chunk_bytes() * static_cast<size_t>(g.pages_per_sequence());
  base_ = pool.memory().reserve(range_bytes_ * static_cast<size_t>(g.chunks()));
  table_.assign(static_cast<size_t>(g.pages_per_sequence()), kNoPage);
}

KvSequence::~KvSequence() {
  try {
    clear();
  } catch (...) {
    // Unmapping failed: the process is in trouble either way; never throw from a destructor.
  }
  if (base_) pool_.memory().unreserve(base_, range_bytes_ * static_cast<size_t>(pool_.geometry().chunks()));
}

Tensor KvSequence::view(int64_t chunk) const {
  const KvGeometry& g = pool_.geometry();
  return Tensor::contiguous(static_cast<float*>(chunk_at(chunk, 0)), g.capacity, g.row_floats);
}

void* KvSequence::chunk_at(int64_t chunk, int64_t index) const {
  return static_cast<char*>(base_) + static_cast<size_t>(chunk) * range_bytes_ +
         static_cast<size_t>(index) * pool_.geometry().chunk_bytes();
}

void KvSequence::map_page(int64_t index, PageId page) {
  PageMemory& m = pool_.memory();
  for (int64_t c = 0; c < pool_.geometry().chunks(); ++c) m.map(chunk_at(c, index), pool_.physical(page, c));
  table_[static_cast<size_t>(index)] = page;
  if (counted_) pool_.note_mapped(page, +1);
}

PageId KvSequence::unmap_page(int64_t index) {
  PageMemory& m = pool_.memory();
  for (int64_t c = 0; c < pool_.geometry().chunks(); ++c) m.unmap(chunk_at(c, index));
  const PageId page = std::exchange(table_[static_cast<size_t>(index)], kNoPage);
  if (counted_ && page != kNoPage) pool_.note_mapped(page, -1);
  return page;
}

void KvSequence::prepare_write(int64_t first, int64_t count) {
  const KvGeometry& g = pool_.geometry();
  if (g.layers == 0 || count <= 0) return;
  if (first < 0 || first + count > g.capacity) {
    throw Error("KV pages: rows [" + std::to_string(first) + ", " + std::to_string(first + count) + ") outside the capacity of " +
                    std::to_string(g.capacity),
                ErrorKind::internal);
  }
  const int64_t T = g.page_tokens;
  for (int64_t index = first / T; index * T < first + count; ++index) {
    const int64_t begin = std::max(first, index * T) - index * T;  // rows of this page written now
    const int64_t end = std::min(first + count, (index + 1) * T) - index * T;
    PageId page = table_[static_cast<size_t>(index)];
    if (page == kNoPage) {
      map_page(index, pool_.allocate());
    } else if (pool_.refs(page) > 1 && pool_.written(page) > begin) {
      copy_on_write(index, begin);
    }
    pool_.mark_written(table_[static_cast<size_t>(index)], end);
  }
}

// The page at `index` is shared with a holder that may need rows at or above `keep_rows`: copy rows
// [0, keep_rows) into a fresh page (through the pool's staging view) and map that one here instead.
void KvSequence::copy_on_write(int64_t index, int64_t keep_rows) {
  const KvGeometry& g = pool_.geometry();
  Ops& ops = pool_.ops();
  const PageId fresh = pool_.allocate();
  KvSequence& staging = pool_.staging();
  staging.map_page(index, fresh);
  const size_t bytes = g.row_bytes() * static_cast<size_t>(keep_rows);
  for (int64_t c = 0; c < g.chunks() && bytes > 0; ++c) ops.copy(staging.chunk_at(c, index), chunk_at(c, index), bytes);
  ops.synchronize();  // the copies read the old mapping and write the staging one: done before unmapping
  staging.unmap_page(index);
  pool_.release(unmap_page(index));
  map_page(index, fresh);
  pool_.mark_written(fresh, keep_rows);
}

std::vector<PageId> KvSequence::share(int64_t rows) const {
  const KvGeometry& g = pool_.geometry();
  std::vector<PageId> out;
  if (g.layers == 0) return out;
  const int64_t n = g.pages_for(rows);
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const PageId page = table_.at(static_cast<size_t>(i));
    if (page == kNoPage) throw Error("KV pages: sharing rows that were never written", ErrorKind::internal);
    pool_.retain(page);
    out.push_back(page);
  }
  return out;
}

void KvSequence::adopt(std::span<const PageId> pages) {
  if (pool_.geometry().layers == 0) return;
  if (pages.size() > table_.size()) throw Error("KV pages: more pages than a sequence holds", ErrorKind::internal);
  bool synced = false;
  for (size_t i = 0; i < table_.size(); ++i) {
    const PageId want = i < pages.size() ? pages[i] : kNoPage;
    if (table_[i] == want) continue;
    if (table_[i] != kNoPage) {
      if (!synced) pool_.ops().synchronize(), synced = true;  // no queued work may still read what goes
      pool_.release(unmap_page(static_cast<int64_t>(i)));
    }
    if (want != kNoPage) {
      pool_.retain(want);
      map_page(static_cast<int64_t>(i), want);
    }
  }
}

void KvSequence::clear() { adopt({}); }

}  // namespace hearth::engine
