#include "chat/bpe_model.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <functional>
#include <mutex>
#include <queue>
#include <unordered_map>

#include "chat/bpe_byte_level.h"
#include "util/error.h"

namespace hearth::chat {

// Pair (left id, right id) -> (rank, merged id), open addressing. The merge lookup is the inner loop of
// BPE, so it is a flat array probed linearly rather than a node-based map.
struct BpeModel::MergeTable {
  struct Slot {
    uint64_t key = kEmpty;
    int32_t rank = 0;
    Token merged = 0;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  std::vector<Slot> slots;
  uint64_t mask = 0;

  static uint64_t key_of(Token left, Token right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  size_t home(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask; }

  explicit MergeTable(size_t count) {
    size_t capacity = 16;
    while (capacity < count * 2) capacity *= 2;
    slots.resize(capacity);
    mask = capacity - 1;
  }
  // Keeps the first (lowest) rank when a pair is listed twice, as the first listing wins in HF.
  void insert(Token left, Token right, int32_t rank, Token merged) {
    const uint64_t key = key_of(left, right);
    for (size_t i = home(key);; i = (i + 1) & mask) {
      if (slots[i].key == key) return;
      if (slots[i].key == kEmpty) {
        slots[i] = {key, rank, merged};
        return;
      }
    }
  }
  const Slot* find(Token left, Token right) const {
    const uint64_t key = key_of(left, right);
    for (size_t i = home(key);; i = (i + 1) & mask) {
      if (slots[i].key == key) return &slots[i];
      if (slots[i].key == kEmpty) return nullptr;
    }
  }
};

// Encoded words by their bytes. Source code and prose repeat a small set of words, so after the first
// few kilobytes nearly every pre-token is a cache hit. Sharded so concurrent requests rarely contend;
// a full shard is simply emptied (cheap, and the working set refills it within a request). The bound is
// in bytes, not entries: hostile or random text (base64, minified code) brings words of up to
// kMaxCachedWordBytes that would make 128k entries cost some 100 MB rather than the 10 MB of prose.
struct BpeModel::WordCache {
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxBytesPerShard = kMaxCacheBytes / kShards;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<Token>, Hash, std::equal_to<>> words;
    size_t bytes = 0;
  };
  Shard shards[kShards];
  std::atomic<size_t> total_bytes{0};

  Shard& shard_for(std::string_view word) { return shards[Hash{}(word) % kShards]; }
  // What one entry costs: its key and ids (heap blocks of at least 32 bytes each) and the node.
  static size_t entry_bytes(size_t word_bytes, size_t ids) {
    return std::max<size_t>(32, word_bytes + 1) + std::max<size_t>(32, ids * sizeof(Token)) + 64;
  }
};

BpeModel::BpeModel(const BpeSpec& spec, const std::string& source) : cache_(std::make_unique<WordCache>()) {
  ignore_merges_ = spec.ignore_merges;
  // Byte-level strings -> ids, to resolve merges (which are written in byte-level text).
  std::unordered_map<std::string_view, Token> id_of_text;
  id_of_text.reserve(spec.vocab.size());
  Token max_id = -1;
  for (const auto& [text, id] : spec.vocab) {
    id_of_text.emplace(text, id);
    max_id = std::max(max_id, id);
  }
  bytes_of_id_.assign(static_cast<size_t>(max_id) + 1, std::string());
  has_id_.assign(bytes_of_id_.size(), false);
  for (const auto& [text, id] : spec.vocab) {
    auto bytes = byte_level::decode(text);
    if (!bytes) throw Error(source + ": model.vocab entry is not valid UTF-8", ErrorKind::invalid_request);
    bytes_of_id_[id] = std::move(*bytes);
    has_id_[id] = true;
  }
  // Views into bytes_of_id_, which is not resized after this point.
  id_of_bytes_.reserve(spec.vocab.size());
  for (size_t id = 0; id < bytes_of_id_.size(); ++id) {
    if (has_id_[id]) id_of_bytes_.emplace(bytes_of_id_[id], static_cast<Token>(id));
  }
  for (int b = 0; b < 256; ++b) {
    std::string one = byte_level::encode(std::string(1, static_cast<char>(b)));
    auto it = id_of_text.find(one);
    if (it == id_of_text.end()) {
      throw Error(source + ": model.vocab lacks the byte-level token \"" + one + "\" for byte " +
                      std::to_string(b) + "; not a byte-level BPE vocabulary",
                  ErrorKind::unsupported);
    }
    byte_token_[b] = it->second;
  }

  merges_ = std::make_unique<MergeTable>(spec.merges.size());
  int32_t rank = 0;
  for (const auto& [left, right] : spec.merges) {
    auto l = id_of_text.find(left), r = id_of_text.find(right);
    std::string joined = left + right;
    auto m = id_of_text.find(joined);
    if (l == id_of_text.end() || r == id_of_text.end() || m == id_of_text.end()) {
      const std::string& missing = l == id_of_text.end() ? left : r == id_of_text.end() ? right : joined;
      throw Error(source + ": model.merges[" + std::to_string(rank) + "] (\"" + left + "\", \"" + right +
                      "\") uses \"" + missing + "\", which is not in model.vocab",
                  ErrorKind::invalid_request);
    }
    merges_->insert(l->second, r->second, rank, m->second);
    ++rank;
  }
}

BpeModel::~BpeModel() = default;

const std::string* BpeModel::token_bytes(Token id) const {
  if (id < 0 || static_cast<size_t>(id) >= bytes_of_id_.size() || !has_id_[id]) return nullptr;
  return &bytes_of_id_[id];
}

std::optional<Token> BpeModel::find_bytes(std::string_view bytes) const {
  auto it = id_of_bytes_.find(bytes);
  if (it == id_of_bytes_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::merge_scan(std::vector<Token>& symbols) const {
  const size_t n = symbols.size();
  // rank[i] / merged[i] describe the pair (symbols[i], symbols[i + 1]).
  std::vector<int32_t> rank(n), merged(n);
  auto look = [&](size_t i) {
    const MergeTable::Slot* s = merges_->find(symbols[i], symbols[i + 1]);
    rank[i] = s ? s->rank : INT32_MAX;
    merged[i] = s ? s->merged : 0;
  };
  for (size_t i = 0; i + 1 < n; ++i) look(i);
  size_t size = n;
  while (size > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < size; ++i) {
      if (rank[i] < rank[best]) best = i;  // strict: the leftmost of equal ranks wins
    }
    if (rank[best] == INT32_MAX) break;
    symbols[best] = merged[best];
    symbols.erase(symbols.begin() + best + 1);
    std::copy(rank.begin() + best + 1, rank.begin() + size - 1, rank.begin() + best);
    std::copy(merged.begin() + best + 1, merged.begin() + size - 1, merged.begin() + best);
    --size;
    if (best > 0) look(best - 1);
    if (best + 1 < size) look(best);
  }
}

void BpeModel::merge_heap(std::vector<Token>& symbols) const {
  const int n = static_cast<int>(symbols.size());
  std::vector<int> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  // (rank, left position): popped lowest rank first, then leftmost. Entries go stale when a neighbour
  // merges; a popped entry is used only if its pair still has that rank (a rank names one pair).
  using Entry = std::pair<int32_t, int>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  auto push = [&](int left) {
    if (left < 0 || next[left] < 0) return;
    if (const MergeTable::Slot* s = merges_->find(symbols[left], symbols[next[left]])) heap.emplace(s->rank, left);
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const auto [rank, left] = heap.top();
    heap.pop();
    if (!alive[left] || next[left] < 0) continue;
    const int right = next[left];
    const MergeTable::Slot* s = merges_->find(symbols[left], symbols[right]);
    if (!s || s->rank != rank) continue;
    symbols[left] = s->merged;
    alive[right] = false;
    next[left] = next[right];
    if (next[left] >= 0) prev[next[left]] = left;
    push(prev[left]);
    push(left);
  }
  size_t out = 0;
  for (int i = 0; i >= 0 && i < n; i = next[i]) symbols[out++] = symbols[i];
  symbols.resize(out);
}

void BpeModel::merge_word(std::string_view bytes, std::vector<Token>& out, MergeAlgorithm algorithm) const {
  if (bytes.empty()) return;
  if (ignore_merges_) {
    if (auto whole = find_bytes(bytes)) {
      out.push_back(*whole);
      return;
    }
  }
  std::vector<Token> symbols(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) symbols[i] = byte_token_[static_cast<unsigned char>(bytes[i])];
  // Crossover measured by tokenizer_bench (BM_MergeScan vs BM_MergeHeap): the scan's tight loop wins up
  // to about 200 bytes, the heap's O(n log n) beyond.
  constexpr size_t kScanLimit = 192;
  if (algorithm == MergeAlgorithm::scan ||
      (algorithm == MergeAlgorithm::automatic && symbols.size() <= kScanLimit)) {
    merge_scan(symbols);
  } else {
    merge_heap(symbols);
  }
  out.insert(out.end(), symbols.begin(), symbols.end());
}

void BpeModel::encode_word(std::string_view bytes, std::vector<Token>& out) const {
  if (bytes.size() == 1) {
    out.push_back(byte_token_[static_cast<unsigned char>(bytes[0])]);
    return;
  }
  if (bytes.size() > kMaxCachedWordBytes) {
    merge_word(bytes, out, MergeAlgorithm::automatic);
    return;
  }
  WordCache::Shard& shard = cache_->shard_for(bytes);
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.words.find(bytes);
    if (it != shard.words.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t start = out.size();
  merge_word(bytes, out, MergeAlgorithm::automatic);
  std::vector<Token> ids(out.begin() + start, out.end());
  const size_t cost = WordCache::entry_bytes(bytes.size(), ids.size());
  std::lock_guard lock(shard.mutex);
  if (shard.bytes + cost > WordCache::kMaxBytesPerShard) {
    cache_->total_bytes -= shard.bytes;
    shard.words = {};  // gives the bucket array back too (clear() keeps it)
    shard.bytes = 0;
  }
  if (shard.words.emplace(std::string(bytes), std::move(ids)).second) {
    shard.bytes += cost;
    cache_->total_bytes += cost;
  }
}

size_t BpeModel::cache_bytes() const { return cache_->total_bytes.load(std::memory_order_relaxed); }

}  // namespace hearth::chat
