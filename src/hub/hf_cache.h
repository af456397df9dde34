#pragma once
// Models where users already keep them: the local Hugging Face hub cache, as huggingface_hub (and the
// tools built on it: transformers, mlx-lm, vLLM, ...) lays it out, so that `--model ORG/NAME[@REV]`
// uses a model downloaded by another tool in place:
//
//   <cache>/models--ORG--NAME/refs/<branch or tag>     text file holding a commit hash
//   <cache>/models--ORG--NAME/snapshots/<commit>/...   the repository's files at that commit
//                                                      (symbolic links into ../../blobs/)
//
// <cache> is $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub (huggingface_hub's own order).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace hearth::hub {

struct RepoRef {
  std::string repo;      // "ORG/NAME"
  std::string revision;  // branch, tag, ref path (refs/pr/1) or commit hash; "" = main
};

// "ORG/NAME" or "ORG/NAME@REVISION"; nullopt for anything else (a path such as "./m", "/models/m" or
// "a/b/c"). Does not look at the disk.
std::optional<RepoRef> parse_repo_ref(std::string_view text);

// The hub cache directory from the environment (see above). Not checked for existence.
std::filesystem::path hub_cache_dir();

struct CachedModel {
  std::filesystem::path dir;  // the snapshot directory: what a model directory argument would be
  std::string repo;
  std::string revision;       // as asked ("main" when none was)
  std::string commit;         // the snapshot's commit hash
  std::string describe() const;  // "ORG/NAME@main (commit 0123abcd...)"
  std::string name() const;      // "NAME": what to serve it as (the snapshot directory is only a hash)
};

// Finds `ref` in the cache at `cache_dir`. Throws hearth::Error(not_found) naming what is missing
// (the repository, the revision with the ones that are there, the snapshot, its config.json).
CachedModel resolve_in_cache(const RepoRef& ref, const std::filesystem::path& cache_dir);

// A --model argument: an existing path is used as it is (a directory named like "ORG/NAME" wins over
// the cache); otherwise a repository id is looked up in hub_cache_dir(). `from_hub` is set in the
// second case. Throws hearth::Error for an argument that is neither.
struct ModelLocation {
  std::filesystem::path dir;
  std::optional<CachedModel> from_hub;
};
ModelLocation locate_model(const std::string& argument);

}  // namespace hearth::hub
