#pragma once
// Persistence of checkpoints in a directory, so that a restarted server keeps its cached static prefix.
// One file per checkpoint, named by a hash of (model identity, token path). The file starts with a
// header written by the cache (magic, version, kind, model identity, token path), continues with the
// model's own serialisation of the state (Model::serialize_state) and ends with a trailer: an end magic
// and a checksum of every byte before it. The header is checked on load, so a hash collision or a file
// of another model is never restored; the trailer is checked at start-up (a file cut short is removed
// with a warning) and the checksum when the state is read (a damaged state is refused, never restored).
// Files are written to a temporary name carrying the writer's pid, synced and renamed, so a crash (even
// kill -9 mid-write) never leaves a half-written checkpoint under a valid name; a later scan deletes the
// temporary files of writers that are gone.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cache/checkpoint.h"

namespace hearth::cache {

struct PersistedCheckpoint {
  std::string file;          // name inside the directory
  std::vector<Token> path;
  CheckpointKind kind = CheckpointKind::static_prefix;
  size_t bytes = 0;          // file size
};

class DiskStore {
 public:
  // Creates `dir` if needed. Throws hearth::Error(io) when it cannot.
  DiskStore(std::filesystem::path dir, std::string model_identity);

  // Headers of the checkpoint files in the directory that belong to this model identity. Unreadable or
  // malformed files are skipped, each with a line in `warnings`.
  std::vector<PersistedCheckpoint> scan(std::vector<std::string>& warnings) const;
  // Writes the snapshot for `path`; returns what was written. Throws hearth::Error(io / unsupported).
  PersistedCheckpoint write(std::span<const Token> path, CheckpointKind kind, const engine::StateSnapshot& snapshot,
                            const engine::Model& model) const;
  // Reads the state of `file`, checking that its header names this model and exactly `path`.
  // Throws hearth::Error(io) naming the problem.
  std::unique_ptr<engine::StateSnapshot> read(const std::string& file, std::span<const Token> path,
                                              const engine::Model& model) const;
  void remove(const std::string& file) const;

  // The file name used for `path` under `model_identity`.
  static std::string file_name(std::string_view model_identity, std::span<const Token> path);
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::string identity_;
};

}  // namespace hearth::cache
