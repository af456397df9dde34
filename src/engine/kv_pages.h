#pragma once
// The attention KV cache in pages: one pool of physical pages, planned at start-up and reference-
// counted, from which every sequence slot and every prompt-cache checkpoint takes its KV rows.
//
// A page holds `page_tokens` consecutive positions of every full-attention layer: for layer l its K
// rows are chunk 2l and its V rows chunk 2l+1, each chunk one physical page of the backend's
// PageMemory. A sequence (KvSequence) reserves, per chunk kind, an address range of `capacity` rows and
// maps its pages there in order, so kernels read and write one contiguous [capacity, row] tensor per
// layer exactly as before paging: no kernel knows about pages.
//
// Sharing. A checkpoint of a sequence at position p retains the pages covering [0, p) and copies only
// the recurrent state; restoring it maps the same pages into a slot. A page is written in place unless
// it is shared AND some holder may need the rows about to be written (rows at or above the write start
// were written before: the page's high-water mark says so) — then the writer first copies the rows it
// keeps into a fresh page (copy on write). So the common agent loop (checkpoint at p, the same sequence
// goes on from p) never copies, and two sequences continuing one checkpoint never see each other's rows.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "engine/ops.h"
#include "engine/page_memory.h"

namespace hearth::engine {

struct KvGeometry {
  int64_t layers = 0;       // full-attention layers
  int64_t row_floats = 0;   // one K (or V) row: kv_heads × head_dim floats
  int64_t page_tokens = 0;  // positions of one page
  int64_t capacity = 0;     // positions one sequence can hold: a multiple of page_tokens
  size_t row_bytes() const { return static_cast<size_t>(row_floats) * sizeof(float); }
  size_t chunk_bytes() const { return row_bytes() * static_cast<size_t>(page_tokens); }
  int64_t chunks() const { return 2 * layers; }  // physical pages per KV page
  size_t page_bytes() const { return chunk_bytes() * static_cast<size_t>(chunks()); }
  int64_t pages_per_sequence() const { return capacity / page_tokens; }
  int64_t pages_for(int64_t positions) const { return (positions + page_tokens - 1) / page_tokens; }
};

// The page size in positions for rows of `row_bytes` on memory of `granularity`: the smallest count
// whose chunk is a multiple of the granularity and at least `min_chunk_bytes` (fewer mappings).
int64_t choose_page_tokens(size_t row_bytes, size_t granularity, size_t min_chunk_bytes);

using PageId = int32_t;
constexpr PageId kNoPage = -1;

class KvSequence;

class KvPagePool {
 public:
  // Creates `pages` pages of `geometry` in `memory` (from ops.make_page_memory(); chunk_bytes() a
  // multiple of its granularity). geometry.layers may be 0 (a model without attention layers): the pool
  // then holds nothing and every call is trivial.
  KvPagePool(Ops& ops, std::unique_ptr<PageMemory> memory, KvGeometry geometry, int64_t pages);
  ~KvPagePool();
  KvPagePool(const KvPagePool&) = delete;
  KvPagePool& operator=(const KvPagePool&) = delete;

  const KvGeometry& geometry() const { return geometry_; }
  Ops& ops() const { return ops_; }
  PageMemory& memory() { return *memory_; }
  int64_t total_pages() const { return static_cast<int64_t>(refs_.size()); }
  int64_t free_pages() const { return static_cast<int64_t>(free_.size()); }
  size_t bytes() const { return geometry_.page_bytes() * refs_.size(); }

  // A page with one reference and nothing written. When none is free, asks the reclaimer (which
  // releases pages held by checkpoints) until one is; throws hearth::Error(out_of_memory) otherwise.
  PageId allocate();
  void retain(PageId page);
  void release(PageId page);  // the last release frees the page
  int32_t refs(PageId page) const { return refs_.at(static_cast<size_t>(page)); }
  // Rows of the page written so far by anyone (a high-water mark, 0..page_tokens).
  int64_t written(PageId page) const { return written_.at(static_cast<size_t>(page)); }
  void mark_written(PageId page, int64_t rows);
  void set_reclaimer(std::function<bool()> reclaim) { reclaimer_ = std::move(reclaim); }
  // Pages in use that no sequence maps: held only by state snapshots (the prompt cache's checkpoints).
  // Their memory is the cache's, not the running sequences'. Safe to read from any thread.
  int64_t unmapped_pages() const { return unmapped_.load(std::memory_order_relaxed); }

  // The backend page of chunk `chunk` (0 .. 2·layers-1) of `page`.
  size_t physical(PageId page, int64_t chunk) const {
    return static_cast<size_t>(page) * static_cast<size_t>(geometry_.chunks()) + static_cast<size_t>(chunk);
  }
  // A sequence view owned by the pool for reading pages no slot has mapped (a checkpoint copied to the
  // host) and for copy on write. Leave it empty (clear()) after use.
  KvSequence& staging();

 private:
  Ops& ops_;
  KvGeometry geometry_;
  std::unique_ptr<PageMemory> memory_;
  friend class KvSequence;  // reports its mappings (note_mapped)
  // A sequence (not the staging view) mapped (+1) or unmapped (-1) `page`.
  void note_mapped(PageId page, int delta);
  bool unmapped_in_use(size_t page) const { return refs_[page] > 0 && mapped_[page] == 0; }

  std::vector<int32_t> refs_;
  std::vector<int32_t> mapped_;  // sequences mapping each page (the staging view not counted)
  std::atomic<int64_t> unmapped_{0};
  std::vector<int64_t> written_;
  std::vector<PageId> free_;
  std::function<bool()> reclaimer_;
  std::unique_ptr<KvSequence> staging_;
};

// One sequence's attention KV in a pool (see above). Not thread-safe: the model uses it from one thread.
class KvSequence {
 public:
  // `counted`: its mappings count as a running sequence's (KvPagePool::unmapped_pages); false for the
  // pool's staging view, which maps pages only while copying them.
  explicit KvSequence(KvPagePool& pool, bool counted = true);
  ~KvSequence();
  KvSequence(const KvSequence&) = delete;
  KvSequence& operator=(const KvSequence&) = delete;

  // [capacity, row_floats] views of layer `layer`'s K and V (index among the full-attention layers).
  // Rows of pages not mapped must not be touched.
  Tensor k(int64_t layer) const { return view(2 * layer); }
  Tensor v(int64_t layer) const { return view(2 * layer + 1); }

  // Makes rows [first, first + count) writable: maps fresh pages where none is, copies a shared page
  // before it is written (copy on write, see above), and records the rows as written.
  void prepare_write(int64_t first, int64_t count);
  // The pages covering rows [0, rows), each retained once more for the caller (who releases them).
  std::vector<PageId> share(int64_t rows) const;
  // Replaces the sequence's pages by `pages` (retained here; the caller keeps its own references),
  // mapping only where they differ from what is mapped now.
  void adopt(std::span<const PageId> pages);
  void clear();  // releases every page
  const std::vector<PageId>& pages() const { return table_; }

 private:
  Tensor view(int64_t chunk) const;
  void* chunk_at(int64_t chunk, int64_t index) const;
  void map_page(int64_t index, PageId page);  // takes over one reference of `page`
  PageId unmap_page(int64_t index);           // gives the reference back to the caller
  void copy_on_write(int64_t index, int64_t keep_rows);

  KvPagePool& pool_;
  bool counted_ = true;
  void* base_ = nullptr;      // one reservation: chunk kind j's range starts at base_ + j · range_bytes_
  size_t range_bytes_ = 0;
  std::vector<PageId> table_;  // page of each page-sized span of positions (kNoPage: none)
};

}  // namespace hearth::engine
