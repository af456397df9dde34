#pragma once
// The model a replay benchmark runs on (hearth bench-cache, bench-serve): one of --model DIR (real or,
// with --dummy, random weights of its config) or --demo, on --device with --threads. Each command parses
// these flags through parse() and loads with load().
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "app/args.h"
#include "engine/demo_model.h"
#include "engine/loader.h"
#include "util/error.h"

namespace hearth::app {

struct BenchModelArgs {
  std::string model_dir;
  bool dummy = false;
  bool demo = false;
  engine::Device device = engine::Device::automatic;
  int threads = 0;

  // Takes `arg` (and its value) when it is one of these flags; false otherwise.
  bool parse(const std::string& arg, ArgCursor& args) {
    if (arg == "--model") model_dir = args.value();
    else if (arg == "--dummy") dummy = true;
    else if (arg == "--demo") demo = true;
    else if (arg == "--device") device = engine::parse_device(args.value());
    else if (arg == "--threads") threads = int(integer_argument(arg, args.value(), 0, 4096));
    else return false;
    return true;
  }
  void check() const {
    if (demo == !model_dir.empty()) throw Error("give exactly one of --model DIR or --demo", ErrorKind::invalid_request);
  }
  // `command` names the demo model's temporary directory.
  std::unique_ptr<engine::Model> load(int32_t slots, int64_t max_context, const std::string& command) const {
    engine::LoadOptions load;
    load.device = device;
    load.threads = threads;
    load.slots = slots;
    load.max_context = max_context;
    load.format = dummy || demo ? engine::LoadFormat::dummy : engine::LoadFormat::safetensors;
    load.model_dir = demo ? engine::write_demo_model_dir(std::filesystem::temp_directory_path() /
                                                         ("hearth-" + command + "-demo-" + std::to_string(::getpid())))
                          : std::filesystem::path(model_dir);
    std::unique_ptr<engine::Model> model = engine::load_model(load);
    if (demo) std::filesystem::remove_all(load.model_dir);
    return model;
  }
};

}  // namespace hearth::app
