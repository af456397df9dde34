#pragma once
// Names the weights a persisted checkpoint belongs to (--cache-dir): checkpoints are keyed by it, so a
// restarted server only ever restores states its own weights made.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::cache {

// `kind` (e.g. "qwen3_5 safetensors cpu") plus a hash over each file's name, size and modification time,
// and the full contents of files under 1 MiB (config.json, a script). Missing files count as absent.
std::string identity_of_files(std::string_view kind, const std::vector<std::filesystem::path>& files);

// The files that determine a model directory's states: config.json and every *.safetensors file.
std::vector<std::filesystem::path> model_state_files(const std::filesystem::path& model_dir);

}  // namespace hearth::cache
