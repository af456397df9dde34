#pragma once
// The built-in demo model `hearth serve` runs when no model directory is given: a small qwen3_5
// configuration with the Qwen3 tokenizer's vocabulary size, loaded with LoadFormat::dummy (random
// weights: it produces gibberish, fast, on any CPU). It shows that the whole server works on a
// fresh machine with no GPU and no downloaded model.
#include <cstdint>
#include <filesystem>

#include <nlohmann/json_fwd.hpp>

namespace hearth::engine {

// config.json contents of the demo model for a tokenizer of `vocab_size` ids (Qwen3's: 151669).
nlohmann::json demo_model_config(int64_t vocab_size = 151669);
// Writes demo_model_config() as `dir`/config.json (creating dir) and returns dir, ready for
// load_model({.model_dir = dir, .format = LoadFormat::dummy}).
std::filesystem::path write_demo_model_dir(const std::filesystem::path& dir, int64_t vocab_size = 151669);

}  // namespace hearth::engine
