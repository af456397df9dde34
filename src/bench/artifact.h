#pragma once
// What exactly was benchmarked: an identity for a model artifact (a model directory, or a scripted
// model's script file) that changes whenever its content does.
#include <filesystem>
#include <string>

namespace hearth::bench {

// - a Hugging Face cache snapshot (…/models--ORG--NAME/snapshots/REV): "hf:ORG/NAME@REV";
// - a git checkout: "git:<remote url or path>@<commit>" (with "+dirty" when it has uncommitted changes);
// - anything else: "sha256:<hex>" of the file, or of a manifest of every file's relative path and
//   SHA-256 for a directory (large models take a while: about a second per GB).
// Throws hearth::Error (not_found) when the path does not exist.
std::string artifact_identity(const std::filesystem::path& path);

}  // namespace hearth::bench
