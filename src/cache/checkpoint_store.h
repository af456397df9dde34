#pragma once
// The prompt cache's memory: checkpoints (model state snapshots) in a CheckpointTree, held under two
// budgets, device bytes and host bytes, that are never exceeded.
//
// Eviction. When a budget is full, the victim is the checkpoint with the smallest
//   last_used + protection_ticks * level
// where last_used is a logical clock (one tick per lookup or insert; a hit refreshes the checkpoint and
// every checkpoint above it on the prompt's path) and level says how much the tree needs it:
//   0  shadowed by a deeper checkpoint on a non-branching path (and not an anchor kind)
//   1  the tip of a path (leaf)
//   2  a branch point shared by diverging paths, or an anchor kind (static prefix, end of the last user
//      query) that later prompts are known to share
// So among checkpoints used about equally recently, the ones the tree can do without go first, while a
// stale checkpoint of an abandoned conversation still goes before a fresh one however it is placed.
// A device-tier victim is demoted to the host tier (Model::offload_state) when the model can offload and
// the host budget can make room; otherwise it is dropped. Host-tier victims are dropped.
//
// Host memory of KV pages. On a backend whose KV pages are host memory (the CPU), the pages that only
// checkpoints hold (Model::snapshot_host_page_bytes: no running sequence maps them) are memory the
// cache keeps, so they count against the host budget beside the checkpoints' own states; evicting
// checkpoints frees them. They grow when a sequence moves on from pages a checkpoint shares, outside any
// insert, so the prompt cache calls trim() when each request begins.
//
// Persistence (optional): checkpoints of the kinds chosen are written to a directory when inserted and
// are listed in the tree at start-up as disk-tier entries, read back on their first hit.
//
// Thread safety: all methods lock one mutex. The caller restoring a found snapshot holds a shared_ptr,
// so an eviction meanwhile frees nothing under it.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cache/checkpoint_tree.h"
#include "cache/disk_store.h"

namespace hearth::cache {

enum class PersistKinds { static_prefix, anchors, all };

struct PersistConfig {
  std::filesystem::path dir;            // empty: no persistence
  std::string model_identity;           // required with dir: names the weights the states belong to
  PersistKinds kinds = PersistKinds::static_prefix;
  size_t disk_budget_bytes = 0;         // 0: unlimited
};

struct StoreConfig {
  // Defaults match `hearth serve`'s: a few dozen 35B-A3B checkpoints on the GPU, more on the host.
  size_t device_budget_bytes = size_t(8) << 30;
  size_t host_budget_bytes = size_t(16) << 30;
  uint64_t protection_ticks = 64;       // see the eviction rule above
  PersistConfig persist;
};

struct StoreStats {
  size_t device_bytes = 0;
  size_t host_bytes = 0;       // checkpoint states and the KV pages only checkpoints hold (host_page_bytes)
  size_t host_page_bytes = 0;
  size_t disk_bytes = 0;
  size_t device_checkpoints = 0;
  size_t host_checkpoints = 0;
  size_t disk_only_checkpoints = 0;
  size_t tree_nodes = 0;
  size_t tree_tokens = 0;
  uint64_t inserted = 0;
  uint64_t rejected = 0;        // a snapshot larger than a budget even after offloading
  uint64_t demoted = 0;         // device -> host
  uint64_t evicted = 0;         // dropped from memory
  uint64_t page_releases = 0;   // demoted or dropped because the model's KV page pool ran short
  uint64_t disk_writes = 0;
  uint64_t disk_reads = 0;
  uint64_t disk_errors = 0;
};

struct CheckpointInfo {
  int64_t position = 0;
  CheckpointKind kind = CheckpointKind::message_end;
  Tier tier = Tier::host;
  CheckpointRole role = CheckpointRole::leaf;
  size_t device_bytes = 0;
  size_t host_bytes = 0;
  bool persisted = false;
  uint64_t last_used = 0;
};

struct FoundCheckpoint {
  int64_t position = 0;
  std::shared_ptr<const engine::StateSnapshot> snapshot;
  CheckpointKind kind = CheckpointKind::message_end;
  Tier tier = Tier::host;   // where it was found (disk: read back just now)
};

enum class InsertOutcome { stored, already_present, rejected };

class CheckpointStore {
 public:
  // `model` makes offloaded and (de)serialised snapshots; it must outlive the store. With persistence
  // configured, scans the directory (problems go to warnings(), never abort the server).
  CheckpointStore(const engine::Model& model, StoreConfig config);
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  // The deepest checkpoint whose token path is a prefix of `prompt` with position <= max_position.
  std::optional<FoundCheckpoint> find(std::span<const Token> prompt, int64_t max_position);
  bool contains(std::span<const Token> path) const;
  // Stores `snapshot` (which must cover exactly `path`) under the budgets, evicting as needed.
  InsertOutcome insert(std::span<const Token> path, std::unique_ptr<engine::StateSnapshot> snapshot,
                       CheckpointKind kind);

  // Frees KV pages for the model (engine::Model::set_page_reclaimer): of the checkpoints that hold
  // pages, the one eviction would pick first is dropped. False when no checkpoint holds pages.
  bool release_pages();
  // Evicts until both budgets hold again (see "Host memory of KV pages" above).
  void trim();

  StoreStats stats() const;
  std::vector<CheckpointInfo> list() const;   // depth-first order
  std::vector<std::string> warnings() const;  // persistence problems met so far
  const StoreConfig& config() const { return config_; }

 private:
  using Node = CheckpointTree::Node;
  bool make_room(Tier tier, size_t needed, std::vector<const Node*>& protect);
  // The checkpoint to evict first among those with bytes on `tier` (or, with pages_only, among those
  // holding KV pages, whatever their tier).
  Node* pick_victim(Tier tier, const std::vector<const Node*>& protect, bool pages_only = false) const;
  void demote_or_drop(Node* victim, std::vector<const Node*>& protect);
  void drop(Node* victim);
  void set_snapshot(Node* node, std::shared_ptr<const engine::StateSnapshot> snapshot);
  bool load_from_disk(Node* node);
  void maybe_persist(Node* node);
  bool should_persist(CheckpointKind kind) const;
  size_t used(Tier tier) const {
    return tier == Tier::device ? device_used_ : host_used_ + model_.snapshot_host_page_bytes();
  }
  size_t budget(Tier tier) const {
    return tier == Tier::device ? config_.device_budget_bytes : config_.host_budget_bytes;
  }

  const engine::Model& model_;
  StoreConfig config_;
  std::unique_ptr<DiskStore> disk_;
  bool persist_unsupported_ = false;
  mutable std::mutex mutex_;
  CheckpointTree tree_;
  uint64_t clock_ = 0;
  size_t device_used_ = 0;
  size_t host_used_ = 0;
  size_t disk_used_ = 0;
  StoreStats counters_;
  std::vector<std::string> warnings_;
};

}  // namespace hearth::cache
