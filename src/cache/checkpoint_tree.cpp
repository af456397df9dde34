#include "cache/checkpoint_tree.h"

#include <algorithm>
#include <functional>

#include "util/error.h"

namespace hearth::cache {

std::string_view to_string(CheckpointKind kind) {
  switch (kind) {
    case CheckpointKind::static_prefix: return "static_prefix";
    case CheckpointKind::user_query_end: return "user_query_end";
    case CheckpointKind::message_end: return "message_end";
    case CheckpointKind::prompt_end: return "prompt_end";
    case CheckpointKind::generation_end: return "generation_end";
  }
  return "?";
}

std::string_view to_string(Tier tier) {
  switch (tier) {
    case Tier::device: return "device";
    case Tier::host: return "host";
    case Tier::disk: return "disk";
  }
  return "?";
}

CheckpointTree::CheckpointTree() : root_(std::make_unique<Node>()) {}

CheckpointTree::Node* CheckpointTree::insert(std::span<const Token> path) {
  if (path.empty()) throw Error("prompt cache: a checkpoint needs at least one token", ErrorKind::internal);
  Node* node = root_.get();
  size_t i = 0;
  while (i < path.size()) {
    auto it = node->children.find(path[i]);
    if (it == node->children.end()) {
      auto child = std::make_unique<Node>();
      child->edge.assign(path.begin() + static_cast<ptrdiff_t>(i), path.end());
      child->parent = node;
      child->depth = static_cast<int64_t>(path.size());
      Node* raw = child.get();
      node->children.emplace(path[i], std::move(child));
      return raw;
    }
    Node* child = it->second.get();
    size_t k = 0;
    while (k < child->edge.size() && i + k < path.size() && child->edge[k] == path[i + k]) ++k;
    if (k == child->edge.size()) {
      node = child;
      i += k;
      continue;
    }
    // The path leaves (or ends inside) the child's edge after k tokens: split the edge there.
    auto middle = std::make_unique<Node>();
    middle->edge.assign(child->edge.begin(), child->edge.begin() + static_cast<ptrdiff_t>(k));
    middle->parent = node;
    middle->depth = node->depth + static_cast<int64_t>(k);
    std::unique_ptr<Node> owned_child = std::move(it->second);
    owned_child->edge.erase(owned_child->edge.begin(), owned_child->edge.begin() + static_cast<ptrdiff_t>(k));
    owned_child->parent = middle.get();
    Token child_key = owned_child->edge.front();
    middle->children.emplace(child_key, std::move(owned_child));
    Node* raw_middle = middle.get();
    it->second = std::move(middle);
    node = raw_middle;
    i += k;
  }
  return node;
}

CheckpointTree::Node* CheckpointTree::find(std::span<const Token> path) const {
  Node* node = root_.get();
  size_t i = 0;
  while (i < path.size()) {
    auto it = node->children.find(path[i]);
    if (it == node->children.end()) return nullptr;
    Node* child = it->second.get();
    if (path.size() - i < child->edge.size()) return nullptr;
    if (!std::equal(child->edge.begin(), child->edge.end(), path.begin() + static_cast<ptrdiff_t>(i))) return nullptr;
    node = child;
    i += child->edge.size();
  }
  return node == root_.get() ? nullptr : node;
}

std::vector<CheckpointTree::Node*> CheckpointTree::entries_along(std::span<const Token> prompt,
                                                                 int64_t max_depth) const {
  std::vector<Node*> found;
  Node* node = root_.get();
  size_t i = 0;
  while (i < prompt.size()) {
    auto it = node->children.find(prompt[i]);
    if (it == node->children.end()) break;
    Node* child = it->second.get();
    // The whole edge must match: a node stands for the path to the END of its edge.
    if (prompt.size() - i < child->edge.size()) break;
    if (!std::equal(child->edge.begin(), child->edge.end(), prompt.begin() + static_cast<ptrdiff_t>(i))) break;
    node = child;
    i += child->edge.size();
    if (node->depth > max_depth) break;
    if (node->entry) found.push_back(node);
  }
  std::reverse(found.begin(), found.end());
  return found;
}

std::vector<CheckpointTree::Node*> CheckpointTree::entries() const {
  std::vector<Node*> out;
  std::vector<Node*> stack{root_.get()};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    if (node->entry) out.push_back(node);
    for (auto it = node->children.rbegin(); it != node->children.rend(); ++it) stack.push_back(it->second.get());
  }
  return out;
}

void CheckpointTree::erase_entry(Node* node) {
  node->entry.reset();
  compact(node);
}

void CheckpointTree::compact(Node* node) {
  while (node != root_.get() && !node->entry) {
    Node* parent = node->parent;
    auto slot = parent->children.find(node->edge.front());
    if (node->children.empty()) {
      parent->children.erase(slot);  // destroys node
      node = parent;
      continue;
    }
    if (node->children.size() == 1) {
      // A node without an entry and a single child is only an edge split: fold it into the child.
      std::unique_ptr<Node> child = std::move(node->children.begin()->second);
      child->edge.insert(child->edge.begin(), node->edge.begin(), node->edge.end());
      child->parent = parent;
      slot->second = std::move(child);  // destroys node
    }
    return;
  }
}

std::vector<Token> CheckpointTree::path_of(const Node* node) const {
  std::vector<const Node*> chain;
  for (const Node* n = node; n && n != root_.get(); n = n->parent) chain.push_back(n);
  std::vector<Token> path;
  path.reserve(static_cast<size_t>(node->depth));
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) path.insert(path.end(), (*it)->edge.begin(), (*it)->edge.end());
  return path;
}

CheckpointRole CheckpointTree::role_of(const Node* node) const {
  const Node* n = node;
  while (true) {
    if (n->children.empty()) return CheckpointRole::leaf;
    if (n->children.size() > 1) return CheckpointRole::branch;
    n = n->children.begin()->second.get();
    if (n->entry) return CheckpointRole::shadowed;
  }
}

size_t CheckpointTree::node_count() const {
  size_t count = 0;
  std::vector<const Node*> stack{root_.get()};
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    ++count;
    for (const auto& [key, child] : node->children) stack.push_back(child.get());
  }
  return count - 1;  // the root holds no tokens
}

size_t CheckpointTree::token_count() const {
  size_t count = 0;
  std::vector<const Node*> stack{root_.get()};
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    count += node->edge.size();
    for (const auto& [key, child] : node->children) stack.push_back(child.get());
  }
  return count;
}

}  // namespace hearth::cache
