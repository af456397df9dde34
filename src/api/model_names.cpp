#include "api/model_names.h"

namespace hearth::api {

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single backtrack point: linear in practice, no recursion on hostile input.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

ServedModels::ServedModels(std::vector<std::string> names) : names_(std::move(names)) {}

bool ServedModels::accepts(std::string_view requested) const {
  if (names_.empty()) return true;
  for (const std::string& name : names_) {
    if (wildcard_match(name, requested)) return true;
  }
  return false;
}

std::vector<std::string> ServedModels::listed() const {
  std::vector<std::string> out;
  for (const std::string& name : names_) {
    if (name.find('*') == std::string::npos) out.push_back(name);
  }
  return out;
}

std::string ServedModels::describe() const {
  if (names_.empty()) return "any model name";
  std::string out;
  for (const std::string& name : names_) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace hearth::api
