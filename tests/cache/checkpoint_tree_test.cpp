#include "cache/checkpoint_tree.h"

#include <gtest/gtest.h>

namespace hearth::cache {
namespace {

using Path = std::vector<Token>;

void mark(CheckpointTree& tree, const Path& path) {
  tree.insert(path)->entry = std::make_unique<CheckpointEntry>();
}

std::vector<int64_t> depths(const std::vector<CheckpointTree::Node*>& nodes) {
  std::vector<int64_t> out;
  for (auto* n : nodes) out.push_back(n->depth);
  return out;
}

TEST(CheckpointTree, InsertSplitsAnEdgeAndFindsEveryInsertedPathExactly) {
  CheckpointTree tree;
  mark(tree, {1, 2, 3, 4, 5});
  mark(tree, {1, 2, 3});        // ends inside the first edge: split
  mark(tree, {1, 2, 9, 9});     // leaves the edge after two tokens: second split
  ASSERT_NE(tree.find(Path{1, 2, 3, 4, 5}), nullptr);
  ASSERT_NE(tree.find(Path{1, 2, 3}), nullptr);
  ASSERT_NE(tree.find(Path{1, 2, 9, 9}), nullptr);
  EXPECT_EQ(tree.find(Path{1, 2, 3})->depth, 3);
  EXPECT_EQ(tree.path_of(tree.find(Path{1, 2, 9, 9})), (Path{1, 2, 9, 9}));
  EXPECT_EQ(tree.find(Path{1, 2, 3, 4}), nullptr);  // inside an edge: no node
  EXPECT_EQ(tree.find(Path{7}), nullptr);
  // Nodes: {1,2} split point, {3}, {4,5}, {9,9}; 7 tokens stored once each.
  EXPECT_EQ(tree.node_count(), 4u);
  EXPECT_EQ(tree.token_count(), 7u);
}

TEST(CheckpointTree, EntriesAlongReturnsOnlyWholePrefixesOfThePromptDeepestFirst) {
  CheckpointTree tree;
  mark(tree, {1, 2});
  mark(tree, {1, 2, 3, 4});
  mark(tree, {1, 2, 3, 4, 5, 6});
  mark(tree, {1, 2, 7});
  EXPECT_EQ(depths(tree.entries_along(Path{1, 2, 3, 4, 5, 6, 8}, 100)), (std::vector<int64_t>{6, 4, 2}));
  // Diverges inside the {5,6} edge: the checkpoint at 6 is not a prefix of this prompt.
  EXPECT_EQ(depths(tree.entries_along(Path{1, 2, 3, 4, 5, 0}, 100)), (std::vector<int64_t>{4, 2}));
  // The prompt ends inside an edge.
  EXPECT_EQ(depths(tree.entries_along(Path{1, 2, 3}, 100)), (std::vector<int64_t>{2}));
  EXPECT_TRUE(tree.entries_along(Path{2, 1}, 100).empty());
}

TEST(CheckpointTree, EntriesAlongStopsAtMaxDepth) {
  CheckpointTree tree;
  mark(tree, {1, 2});
  mark(tree, {1, 2, 3, 4});
  EXPECT_EQ(depths(tree.entries_along(Path{1, 2, 3, 4}, 3)), (std::vector<int64_t>{2}));
  EXPECT_EQ(depths(tree.entries_along(Path{1, 2, 3, 4}, 4)), (std::vector<int64_t>{4, 2}));
}

TEST(CheckpointTree, EraseEntryPrunesDeadBranchesAndMergesSplitEdges) {
  CheckpointTree tree;
  mark(tree, {1, 2, 3, 4});
  mark(tree, {1, 2, 5, 6});
  mark(tree, {1, 2, 5, 6, 7});
  EXPECT_EQ(tree.node_count(), 4u);  // {1,2} {3,4} {5,6} {7}
  tree.erase_entry(tree.find(Path{1, 2, 3, 4}));
  // {1,2} no longer splits anything: folded into {5,6}.
  EXPECT_EQ(tree.node_count(), 2u);
  EXPECT_EQ(tree.token_count(), 5u);
  ASSERT_NE(tree.find(Path{1, 2, 5, 6}), nullptr);
  EXPECT_EQ(tree.find(Path{1, 2, 5, 6})->edge, (Path{1, 2, 5, 6}));
  tree.erase_entry(tree.find(Path{1, 2, 5, 6}));
  EXPECT_EQ(tree.node_count(), 1u);
  EXPECT_EQ(depths(tree.entries_along(Path{1, 2, 5, 6, 7}, 100)), (std::vector<int64_t>{5}));
  tree.erase_entry(tree.find(Path{1, 2, 5, 6, 7}));
  EXPECT_EQ(tree.node_count(), 0u);
  EXPECT_TRUE(tree.entries().empty());
}

TEST(CheckpointTree, RoleTellsLeafShadowedAndBranchApart) {
  CheckpointTree tree;
  mark(tree, {1, 2});           // below it: one path to {1,2,3,4} -> shadowed
  mark(tree, {1, 2, 3, 4});     // below it: paths to ...5 and ...6 diverge -> branch
  mark(tree, {1, 2, 3, 4, 5});  // leaf
  mark(tree, {1, 2, 3, 4, 6, 6});
  EXPECT_EQ(tree.role_of(tree.find(Path{1, 2})), CheckpointRole::shadowed);
  EXPECT_EQ(tree.role_of(tree.find(Path{1, 2, 3, 4})), CheckpointRole::branch);
  EXPECT_EQ(tree.role_of(tree.find(Path{1, 2, 3, 4, 5})), CheckpointRole::leaf);
  // A branch below an intermediate node without entry also makes a branch point.
  CheckpointTree t2;
  mark(t2, {1});
  mark(t2, {1, 2, 3});
  mark(t2, {1, 2, 4});
  EXPECT_EQ(t2.role_of(t2.find(Path{1})), CheckpointRole::branch);
}

TEST(CheckpointTree, EmptyPathIsRejected) {
  CheckpointTree tree;
  EXPECT_THROW(tree.insert(Path{}), Error);
}

}  // namespace
}  // namespace hearth::cache
