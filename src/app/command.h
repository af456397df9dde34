#pragma once
// Subcommands of the `hearth` binary register themselves here (one file per subcommand, app/cmd_*.cpp):
//   static const hearth::app::CommandRegistration reg{"serve", "Run the API server", run_serve};
#include <functional>
#include <map>
#include <string>

namespace hearth::app {

using CommandFn = std::function<int(int argc, char** argv)>;  // argv[0] is the subcommand name

struct Command {
  std::string summary;
  CommandFn run;
};

std::map<std::string, Command>& command_table();

struct CommandRegistration {
  CommandRegistration(const std::string& name, const std::string& summary, CommandFn fn) {
    command_table()[name] = Command{summary, std::move(fn)};
  }
};

}  // namespace hearth::app
