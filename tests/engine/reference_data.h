#pragma once
// Reads the reference logits that tools/tiny_models/make_tiny_models.py stored beside each tiny model
// (testdata/tiny/<model>/reference.json + reference.bin, float32 little-endian).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string>
#include <vector>

namespace hearth::engine::testing {

// The committed test data: $HEARTH_TESTDATA_DIR when set (binaries staged on another machine, e.g. the
// GPU machine), else the checkout the binary was built in, else a testdata/ folder above the binary.
inline std::filesystem::path testdata_dir() {
  if (const char* env = std::getenv("HEARTH_TESTDATA_DIR"); env && *env) return env;
  const std::filesystem::path built(HEARTH_TESTDATA_DIR);
  if (std::filesystem::exists(built / "tiny")) return built;
  std::error_code ec;
  for (auto dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path(); !ec && dir.has_relative_path();
       dir = dir.parent_path()) {
    if (std::filesystem::exists(dir / "testdata" / "tiny")) return dir / "testdata";
  }
  return built;
}

inline std::filesystem::path tiny_model_dir(const std::string& name) { return testdata_dir() / "tiny" / name; }

struct Reference {
  int64_t vocab = 0;
  std::vector<int32_t> prompt;
  struct Prefill {
    int64_t tokens;
    std::vector<float> logits;
  };
  std::vector<Prefill> prefill;
  int64_t decode_prompt = 0;
  std::vector<int32_t> decode_tokens;          // greedy tokens fed, in order
  std::vector<std::vector<float>> decode_logits;  // logits after feeding decode_tokens[i]
  double greedy_min_gap = 0;
  int64_t hidden_tokens = 0, hidden_entries = 0, hidden_width = 0;
  std::vector<float> hidden;  // [entries, tokens, width]

  static Reference load(const std::filesystem::path& dir) {
    std::ifstream js(dir / "reference.json");
    if (!js) throw std::runtime_error("missing " + (dir / "reference.json").string());
    nlohmann::json j = nlohmann::json::parse(js);
    std::ifstream bin(dir / "reference.bin", std::ios::binary);
    std::vector<char> raw((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
    auto floats = [&](int64_t offset, int64_t count) {
      if (offset < 0 || static_cast<size_t>(offset + count * 4) > raw.size()) throw std::runtime_error("reference.bin too short");
      std::vector<float> v(static_cast<size_t>(count));
      std::memcpy(v.data(), raw.data() + offset, static_cast<size_t>(count) * 4);
      return v;
    };
    Reference r;
    r.vocab = j["vocab_size"].get<int64_t>();
    r.prompt = j["prompt"].get<std::vector<int32_t>>();
    for (const auto& p : j["prefill"]) r.prefill.push_back({p["tokens"].get<int64_t>(), floats(p["offset"].get<int64_t>(), r.vocab)});
    const auto& d = j["decode"];
    r.decode_prompt = d["prompt_tokens"].get<int64_t>();
    r.decode_tokens = d["tokens"].get<std::vector<int32_t>>();
    r.greedy_min_gap = d["greedy_min_gap"].get<double>();
    const int64_t steps = d["steps"].get<int64_t>();
    const std::vector<float> all = floats(d["offset"].get<int64_t>(), steps * r.vocab);
    for (int64_t s = 0; s < steps; ++s) r.decode_logits.emplace_back(all.begin() + s * r.vocab, all.begin() + (s + 1) * r.vocab);
    const auto& h = j["hidden"];
    r.hidden_tokens = h["tokens"].get<int64_t>();
    r.hidden_entries = h["entries"].get<int64_t>();
    r.hidden_width = h["width"].get<int64_t>();
    r.hidden = floats(h["offset"].get<int64_t>(), r.hidden_entries * r.hidden_tokens * r.hidden_width);
    return r;
  }
};

// max |a - b| / max |b|: the error relative to the reference's scale.
inline double relative_error(const float* a, const float* b, size_t n) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < n; ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

inline int32_t argmax(const float* v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) if (v[i] > v[best]) best = i;
  return static_cast<int32_t>(best);
}

}  // namespace hearth::engine::testing
