#pragma once
// The model names a server answers to. A name may contain '*' wildcards (e.g. "claude-*"), so that
// clients with built-in model names (Claude Code's side requests) can be served without renaming.
#include <string>
#include <string_view>
#include <vector>

namespace hearth::api {

class ServedModels {
 public:
  // `names`: the first is the canonical id (reported by /v1/models); empty means "accept any name".
  explicit ServedModels(std::vector<std::string> names);
  bool accepts(std::string_view requested) const;
  // The names without wildcards, for listing.
  std::vector<std::string> listed() const;
  std::string describe() const;  // "a, b, claude-*"

 private:
  std::vector<std::string> names_;
};

// Glob match where '*' matches any run of characters (including none).
bool wildcard_match(std::string_view pattern, std::string_view text);

}  // namespace hearth::api
