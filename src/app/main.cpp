// hearth: a local server for the Anthropic Messages API on Qwen3.5/3.6 models.
#include <cstdio>
#include <cstring>
#include <exception>

#include "app/command.h"
#include "util/error.h"

namespace hearth::app {
std::map<std::string, Command>& command_table() {
  static std::map<std::string, Command> table;
  return table;
}
}  // namespace hearth::app

namespace {
void print_usage() {
  std::printf("usage: hearth COMMAND [options]   (hearth COMMAND --help for each)\n\ncommands:\n");
  for (const auto& [name, cmd] : hearth::app::command_table()) {
    std::printf("  %-14s %s\n", name.c_str(), cmd.summary.c_str());
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  auto& table = hearth::app::command_table();
  auto it = table.find(argv[1]);
  if (it == table.end()) {
    std::fprintf(stderr, "hearth: unknown command '%s'\n\n", argv[1]);
    print_usage();
    return 2;
  }
  try {
    return it->second.run(argc - 1, argv + 1);
  } catch (const hearth::Error& e) {
    std::fprintf(stderr, "hearth %s: %s\n", argv[1], e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hearth %s: internal error: %s\n", argv[1], e.what());
    return 1;
  }
}
