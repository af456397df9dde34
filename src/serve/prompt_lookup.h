#pragma once
// Prompt-lookup drafting for speculative decoding: agents copy a lot (an Edit's old_string repeats the
// file just read, a new_string repeats most of the old one, a tool call repeats a path from the
// prompt), so the tokens that followed the most recent earlier occurrence of the sequence's last n
// tokens are a cheap, often right guess of what comes next. The engine verifies the guess in one
// forward pass; this file only guesses.
//
// Incremental: an index from every n-gram (n in [min_ngram, max_ngram]) to the position after its
// most recent occurrence is updated as tokens are appended (O(max_ngram²) per token), so a proposal
// costs a few hash lookups however long the context (agent contexts are 20k–100k tokens).
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace hearth::serve {

struct PromptLookupOptions {
  int max_ngram = 4;      // longest suffix looked up (tried first)
  int min_ngram = 2;      // shortest suffix looked up
  int max_draft = 8;      // tokens proposed at most
  int min_draft = 1;      // the adaptive length never drops below this
  int initial_draft = 4;  // the adaptive length to start with
};

class PromptLookupDrafter {
 public:
  using Token = int32_t;
  explicit PromptLookupDrafter(PromptLookupOptions options = {});

  // Appends tokens to the sequence's history (prompt, then each accepted output token).
  void append(std::span<const Token> tokens);
  void append(Token token) { append(std::span<const Token>(&token, 1)); }
  // Forgets the history (a new sequence); the adaptive draft length starts over too.
  void reset();

  // Up to min(limit, draft_length()) tokens that followed the most recent earlier occurrence of the
  // longest suffix (max_ngram down to min_ngram tokens) found in the history; empty when none is.
  std::vector<Token> propose(int limit) const;
  std::vector<Token> propose() const { return propose(options_.max_draft); }

  // What the verifier accepted of the last proposal: grows the draft length after a full acceptance,
  // shrinks it after a rejection.
  void feedback(int proposed, int accepted);
  void restart_draft_length();  // back to initial_draft (a new generation on the same history)
  int draft_length() const { return draft_length_; }

  size_t size() const { return history_.size(); }
  std::span<const Token> history() const { return history_; }
  const PromptLookupOptions& options() const { return options_; }

 private:
  uint64_t ngram_hash(size_t end, int n) const;  // tokens [end - n, end)
  bool same_ngram(size_t end_a, size_t end_b, int n) const;

  PromptLookupOptions options_;
  std::vector<Token> history_;
  // Per n (index n - min_ngram): hash of the n tokens ending before position p -> p, the position of
  // the token that followed them (the most recent such p). An n-gram enters once its follower exists.
  std::vector<std::unordered_map<uint64_t, uint32_t>> index_;
  int draft_length_;
};

}  // namespace hearth::serve
