#pragma once
// Walks a subcommand's arguments (argv[0] is the subcommand's name, so it starts at argv[1]):
//   ArgCursor args(argc, argv);
//   while (args.more()) {
//     const std::string arg = args.next();
//     if (arg == "--model") model = args.value();  // the argument after --model
//   }
// value() refuses a flag given last with no value, naming that flag, so every subcommand reports a
// missing value the same way.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "util/error.h"

namespace hearth::app {

class ArgCursor {
 public:
  ArgCursor(int argc, char** argv) : argc_(argc), argv_(argv) {}

  bool more() const { return next_ < argc_; }

  // The next argument; value() then belongs to it.
  std::string next() {
    flag_ = argv_[next_++];
    return flag_;
  }

  // The argument after the last one next() returned.
  std::string value() {
    if (next_ >= argc_) throw Error(flag_ + " needs a value", ErrorKind::invalid_request);
    return argv_[next_++];
  }

 private:
  int argc_;
  char** argv_;
  int next_ = 1;
  std::string flag_;
};

// `text` as an integer in [low, high]; otherwise an invalid_request error naming `flag`.
inline int64_t integer_argument(const std::string& flag, const std::string& text, int64_t low, int64_t high) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < low || v > high) {
    throw Error(flag + ": expected an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "], got '" + text + "'",
                ErrorKind::invalid_request);
  }
  return v;
}

// A comma-separated list of integers in [low, high] ("1,2,4,8").
inline std::vector<int64_t> integer_list_argument(const std::string& flag, const std::string& text, int64_t low, int64_t high) {
  std::vector<int64_t> values;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    values.push_back(integer_argument(flag, text.substr(start, comma - start), low, high));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

}  // namespace hearth::app
