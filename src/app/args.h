#pragma once
// Walks a subcommand's arguments (argv[0] is the subcommand's name, so it starts at argv[1]):
//   ArgCursor args(argc, argv);
//   while (args.more()) {
//     const std::string arg = args.next();
//     if (arg == "--model") model = args.value();  // the argument after --model
//   }
// value() refuses a flag given last with no value, naming that flag, so every subcommand reports a
// missing value the same way.
#include <string>

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

}  // namespace hearth::app
