#pragma once
// A radix tree over token ids. A node stands for the token path from the root to the end of its edge;
// nodes may carry a checkpoint entry (a saved model state for exactly that path). The tree answers
// "which checkpoints lie on this prompt's path" and "is this checkpoint needed by the tree's shape";
// budgets and eviction policy live in CheckpointStore.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cache/checkpoint.h"

namespace hearth::cache {

struct CheckpointEntry {
  std::shared_ptr<const engine::StateSnapshot> snapshot;  // null while the state is only on disk
  CheckpointKind kind = CheckpointKind::message_end;
  uint64_t last_used = 0;      // logical clock of the store
  std::string disk_file;       // file name in the persistence directory; empty = not persisted
  size_t disk_bytes = 0;

  Tier tier() const {
    if (!snapshot) return Tier::disk;
    return snapshot->device_bytes() > 0 ? Tier::device : Tier::host;
  }
};

// How the tree's shape around a checkpoint bears on whether it can be dropped.
enum class CheckpointRole {
  leaf,      // nothing is cached below it: the tip of a conversation
  shadowed,  // a deeper checkpoint lies below it on a path that never branches: only a prompt that
             // diverges between the two still needs this one
  branch,    // paths below it diverge before reaching another checkpoint: shared by several of them
};

class CheckpointTree {
 public:
  struct Node {
    std::vector<Token> edge;  // tokens from the parent to this node (empty only for the root)
    Node* parent = nullptr;
    int64_t depth = 0;        // tokens on the path from the root to the end of `edge`
    std::map<Token, std::unique_ptr<Node>> children;  // keyed by the first token of the child's edge
    std::unique_ptr<CheckpointEntry> entry;
  };

  CheckpointTree();
  CheckpointTree(const CheckpointTree&) = delete;
  CheckpointTree& operator=(const CheckpointTree&) = delete;

  // The node for exactly `path` (non-empty), created (splitting an edge if needed) when missing.
  // Nodes that carry entries keep their address until their entry is erased.
  Node* insert(std::span<const Token> path);
  // The node for exactly `path`, or nullptr.
  Node* find(std::span<const Token> path) const;
  // Nodes with an entry whose path is a prefix of `prompt` and whose depth is <= max_depth, deepest first.
  std::vector<Node*> entries_along(std::span<const Token> prompt, int64_t max_depth) const;
  // Every node with an entry (depth-first order).
  std::vector<Node*> entries() const;
  // Removes the node's entry and the tree nodes that no longer lead to any entry; merges edges that
  // no longer need a node between them. `node` must not be used afterwards.
  void erase_entry(Node* node);

  std::vector<Token> path_of(const Node* node) const;
  CheckpointRole role_of(const Node* node) const;

  size_t node_count() const;
  size_t token_count() const;  // tokens stored on all edges (the tree's own memory, 4 bytes each)

 private:
  void compact(Node* node);
  std::unique_ptr<Node> root_;
};

}  // namespace hearth::cache
