#include "cache/checkpoint_store.h"

#include <algorithm>
#include <cstdio>

#include "util/error.h"

namespace hearth::cache {
namespace {

size_t bytes_on(Tier tier, const engine::StateSnapshot& snapshot) {
  return tier == Tier::device ? snapshot.device_bytes() : snapshot.host_bytes();
}

bool contains_node(const std::vector<const CheckpointTree::Node*>& nodes, const CheckpointTree::Node* node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

}  // namespace

CheckpointStore::CheckpointStore(const engine::Model& model, StoreConfig config)
    : model_(model), config_(std::move(config)) {
  if (config_.persist.dir.empty()) return;
  if (config_.persist.model_identity.empty()) {
    throw Error("prompt cache: persisting checkpoints needs a model identity", ErrorKind::invalid_request);
  }
  disk_ = std::make_unique<DiskStore>(config_.persist.dir, config_.persist.model_identity);
  for (PersistedCheckpoint& saved : disk_->scan(warnings_)) {
    Node* node = tree_.insert(saved.path);
    if (node->entry) continue;  // cannot happen for distinct paths; keep the first
    node->entry = std::make_unique<CheckpointEntry>();
    node->entry->kind = saved.kind;
    node->entry->disk_file = saved.file;
    node->entry->disk_bytes = saved.bytes;
    disk_used_ += saved.bytes;
  }
}

std::optional<FoundCheckpoint> CheckpointStore::find(std::span<const Token> prompt, int64_t max_position) {
  std::lock_guard lock(mutex_);
  ++clock_;
  std::vector<Node*> along = tree_.entries_along(prompt, max_position);
  // Every node on the path stays put while a disk read makes room (eviction skips protected nodes).
  std::vector<const Node*> protect(along.begin(), along.end());
  std::vector<Node*> unreadable;
  std::optional<FoundCheckpoint> found;
  for (size_t i = 0; i < along.size() && !found; ++i) {
    Node* node = along[i];
    Tier tier = node->entry->tier();
    std::shared_ptr<const engine::StateSnapshot> snapshot = node->entry->snapshot;
    if (!snapshot) {
      try {
        std::vector<Token> path(prompt.begin(), prompt.begin() + node->depth);
        snapshot = disk_->read(node->entry->disk_file, path, model_);
        ++counters_.disk_reads;
      } catch (const Error& e) {
        // Refused (truncated, damaged, another model's): said once here, then the file is deleted and
        // the prompt is prefilled instead.
        std::fprintf(stderr, "hearth: %s\n", e.what());
        warnings_.push_back(e.what());
        ++counters_.disk_errors;
        unreadable.push_back(node);
        continue;
      }
      // Keep it in memory when the budgets allow; restoring from it works either way.
      if (snapshot->device_bytes() <= config_.device_budget_bytes && snapshot->host_bytes() <= config_.host_budget_bytes &&
          make_room(Tier::device, snapshot->device_bytes(), protect) &&
          make_room(Tier::host, snapshot->host_bytes(), protect)) {
        set_snapshot(node, snapshot);
      }
    }
    // A hit is a use of the whole cached prefix: refresh this checkpoint and those above it.
    for (size_t j = i; j < along.size(); ++j) along[j]->entry->last_used = clock_;
    found = FoundCheckpoint{node->depth, std::move(snapshot), node->entry->kind, tier};
  }
  for (Node* node : unreadable) {
    disk_->remove(node->entry->disk_file);
    disk_used_ -= std::min(disk_used_, node->entry->disk_bytes);
    node->entry->disk_file.clear();
    if (!node->entry->snapshot) tree_.erase_entry(node);
  }
  return found;
}

bool CheckpointStore::contains(std::span<const Token> path) const {
  std::lock_guard lock(mutex_);
  const Node* node = tree_.find(path);
  return node && node->entry;
}

InsertOutcome CheckpointStore::insert(std::span<const Token> path, std::unique_ptr<engine::StateSnapshot> snapshot,
                                      CheckpointKind kind) {
  if (!snapshot || snapshot->position() != static_cast<int64_t>(path.size())) {
    throw Error("prompt cache: a snapshot must cover exactly its token path", ErrorKind::internal);
  }
  std::lock_guard lock(mutex_);
  ++clock_;
  Node* node = tree_.insert(path);
  if (node->entry) {
    // Keep the more protective kind: the same position can be an anchor for one request and a plain
    // message end for another.
    if (is_anchor(kind) && !is_anchor(node->entry->kind)) node->entry->kind = kind;
    node->entry->last_used = clock_;
    if (node->entry->snapshot) {
      maybe_persist(node);
      return InsertOutcome::already_present;
    }
  }
  std::shared_ptr<const engine::StateSnapshot> state = std::move(snapshot);
  if (state->device_bytes() > config_.device_budget_bytes) {
    std::unique_ptr<engine::StateSnapshot> offloaded = model_.offload_state(*state);
    if (offloaded && offloaded->device_bytes() == 0) state = std::move(offloaded);
  }
  bool fits = state->device_bytes() <= config_.device_budget_bytes && state->host_bytes() <= config_.host_budget_bytes;
  if (!node->entry) {
    // The entry exists before any eviction runs, so compaction after a drop never folds this node away.
    node->entry = std::make_unique<CheckpointEntry>();
    node->entry->kind = kind;
    node->entry->last_used = clock_;
  }
  std::vector<const Node*> protect{node};
  if (!fits || !make_room(Tier::device, state->device_bytes(), protect) ||
      !make_room(Tier::host, state->host_bytes(), protect)) {
    ++counters_.rejected;
    if (node->entry->disk_file.empty()) tree_.erase_entry(node);
    return InsertOutcome::rejected;
  }
  set_snapshot(node, std::move(state));
  ++counters_.inserted;
  maybe_persist(node);
  return InsertOutcome::stored;
}

bool CheckpointStore::make_room(Tier tier, size_t needed, std::vector<const Node*>& protect) {
  while (used(tier) + needed > budget(tier)) {
    Node* victim = pick_victim(tier, protect);
    if (!victim) return false;
    if (tier == Tier::device) {
      demote_or_drop(victim, protect);
    } else {
      drop(victim);
    }
  }
  return true;
}

bool CheckpointStore::release_pages() {
  std::lock_guard lock(mutex_);
  std::vector<const Node*> protect;
  Node* victim = pick_victim(Tier::device, protect, true);
  if (!victim) return false;
  // Dropped, not demoted: a host copy of a paged checkpoint is its whole context (1.6 GiB at 40k tokens
  // on the 35B-A3B shape), made on the request path, and checkpoints of one conversation share their
  // pages, so one demotion frees nothing until every sharer has gone too (seen on the H100: 58 demotions,
  // 31.8 GiB of host copies, for one 40k prefill).
  drop(victim);
  ++counters_.page_releases;
  return true;
}

void CheckpointStore::trim() {
  std::lock_guard lock(mutex_);
  std::vector<const Node*> protect;
  make_room(Tier::device, 0, protect);
  make_room(Tier::host, 0, protect);
}

CheckpointStore::Node* CheckpointStore::pick_victim(Tier tier, const std::vector<const Node*>& protect, bool pages_only) const {
  Node* best = nullptr;
  uint64_t best_key = 0;
  for (Node* node : tree_.entries()) {
    const CheckpointEntry& entry = *node->entry;
    if (!entry.snapshot || contains_node(protect, node)) continue;
    if (pages_only ? !model_.holds_pages(*entry.snapshot) : bytes_on(tier, *entry.snapshot) == 0) continue;
    CheckpointRole role = tree_.role_of(node);
    uint64_t level = (is_anchor(entry.kind) || role == CheckpointRole::branch) ? 2
                     : role == CheckpointRole::leaf                             ? 1
                                                                                : 0;
    uint64_t key = entry.last_used + level * config_.protection_ticks;
    // Ties: the deeper checkpoint goes first (it is the larger state, and the shallower one still
    // serves every prompt the deeper one did, at some prefill cost).
    if (!best || key < best_key || (key == best_key && node->depth > best->depth)) {
      best = node;
      best_key = key;
    }
  }
  return best;
}

void CheckpointStore::demote_or_drop(Node* victim, std::vector<const Node*>& protect) {
  std::unique_ptr<engine::StateSnapshot> offloaded = model_.offload_state(*victim->entry->snapshot);
  if (offloaded && offloaded->device_bytes() == 0 && offloaded->host_bytes() <= config_.host_budget_bytes) {
    protect.push_back(victim);
    bool room = make_room(Tier::host, offloaded->host_bytes(), protect);
    protect.pop_back();
    if (room) {
      set_snapshot(victim, std::move(offloaded));
      ++counters_.demoted;
      return;
    }
  }
  drop(victim);
}

void CheckpointStore::drop(Node* victim) {
  set_snapshot(victim, nullptr);
  ++counters_.evicted;
  if (victim->entry->disk_file.empty()) tree_.erase_entry(victim);
}

void CheckpointStore::set_snapshot(Node* node, std::shared_ptr<const engine::StateSnapshot> snapshot) {
  if (const auto& old = node->entry->snapshot) {
    device_used_ -= old->device_bytes();
    host_used_ -= old->host_bytes();
  }
  if (snapshot) {
    device_used_ += snapshot->device_bytes();
    host_used_ += snapshot->host_bytes();
  }
  node->entry->snapshot = std::move(snapshot);
}

bool CheckpointStore::should_persist(CheckpointKind kind) const {
  switch (config_.persist.kinds) {
    case PersistKinds::static_prefix: return kind == CheckpointKind::static_prefix;
    case PersistKinds::anchors: return is_anchor(kind);
    case PersistKinds::all: return true;
  }
  return false;
}

void CheckpointStore::maybe_persist(Node* node) {
  CheckpointEntry& entry = *node->entry;
  if (!disk_ || persist_unsupported_ || !entry.disk_file.empty() || !entry.snapshot || !should_persist(entry.kind)) return;
  try {
    PersistedCheckpoint written = disk_->write(tree_.path_of(node), entry.kind, *entry.snapshot, model_);
    entry.disk_file = written.file;
    entry.disk_bytes = written.bytes;
    disk_used_ += written.bytes;
    ++counters_.disk_writes;
  } catch (const Error& e) {
    warnings_.push_back(e.what());
    ++counters_.disk_errors;
    // A model that cannot serialise never will: stop trying on every insert.
    if (e.kind() == ErrorKind::unsupported) persist_unsupported_ = true;
    return;
  }
  // Over the disk budget: delete the least recently used files (this one last).
  while (config_.persist.disk_budget_bytes > 0 && disk_used_ > config_.persist.disk_budget_bytes) {
    Node* oldest = nullptr;
    for (Node* candidate : tree_.entries()) {
      if (candidate == node || candidate->entry->disk_file.empty()) continue;
      if (!oldest || candidate->entry->last_used < oldest->entry->last_used) oldest = candidate;
    }
    if (!oldest) oldest = node;  // the new file alone is over the budget
    disk_->remove(oldest->entry->disk_file);
    disk_used_ -= std::min(disk_used_, oldest->entry->disk_bytes);
    oldest->entry->disk_file.clear();
    oldest->entry->disk_bytes = 0;
    bool was_node = oldest == node;
    if (!oldest->entry->snapshot) tree_.erase_entry(oldest);
    if (was_node) break;
  }
}

StoreStats CheckpointStore::stats() const {
  std::lock_guard lock(mutex_);
  StoreStats stats = counters_;
  stats.device_bytes = device_used_;
  stats.host_page_bytes = model_.snapshot_host_page_bytes();
  stats.host_bytes = host_used_ + stats.host_page_bytes;
  stats.disk_bytes = disk_used_;
  for (const Node* node : tree_.entries()) {
    switch (node->entry->tier()) {
      case Tier::device: ++stats.device_checkpoints; break;
      case Tier::host: ++stats.host_checkpoints; break;
      case Tier::disk: ++stats.disk_only_checkpoints; break;
    }
  }
  stats.tree_nodes = tree_.node_count();
  stats.tree_tokens = tree_.token_count();
  return stats;
}

std::vector<CheckpointInfo> CheckpointStore::list() const {
  std::lock_guard lock(mutex_);
  std::vector<CheckpointInfo> out;
  for (const Node* node : tree_.entries()) {
    const CheckpointEntry& entry = *node->entry;
    CheckpointInfo info;
    info.position = node->depth;
    info.kind = entry.kind;
    info.tier = entry.tier();
    info.role = tree_.role_of(node);
    info.device_bytes = entry.snapshot ? entry.snapshot->device_bytes() : 0;
    info.host_bytes = entry.snapshot ? entry.snapshot->host_bytes() : 0;
    info.persisted = !entry.disk_file.empty();
    info.last_used = entry.last_used;
    out.push_back(info);
  }
  return out;
}

std::vector<std::string> CheckpointStore::warnings() const {
  std::lock_guard lock(mutex_);
  return warnings_;
}

}  // namespace hearth::cache
