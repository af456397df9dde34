// hearth generate: runs one prompt through a model and prints the completion with prefill and decode
// speed. The quickest way to check a model directory, and with --load-format dummy a benchmark of any
// model shape (a config.json alone is enough).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "app/args.h"
#include "app/command.h"
#include "chat/tokenizer.h"
#include "app/load_progress_view.h"
#include "engine/demo_model.h"
#include "engine/generator.h"
#include "engine/loader.h"
#include "serve/lookup_drafter.h"
#include "hub/hf_cache.h"
#include "util/error.h"

namespace {

using hearth::Error;
using hearth::ErrorKind;
namespace engine = hearth::engine;
namespace serve = hearth::serve;

constexpr const char* kUsage =
    "usage: hearth generate --model DIR [options]\n"
    "Runs one prompt and prints the completion, then prefill and decode tokens per second.\n"
    "  --model DIR            model directory (config.json + safetensors); with --load-format dummy\n"
    "                         a config.json file or a directory holding one is enough; or a Hugging\n"
    "                         Face repository id ORG/NAME[@REVISION] in the local hub cache\n"
    "  --demo                 the built-in demo model (small qwen3_5, random weights) instead of --model\n"
    "  --load-format F        safetensors (default) or dummy (random weights of the config's shape)\n"
    "  --prompt TEXT          prompt text (needs a tokenizer.json in DIR, or --tokenizer)\n"
    "  --prompt-tokens IDS    prompt as token ids, comma-separated\n"
    "  --random-prompt N      prompt of N random token ids (benchmarks)\n"
    "  --tokenizer PATH       tokenizer.json or a directory holding one (default: DIR)\n"
    "  --max-tokens N         tokens to generate (default 64)\n"
    "  --device D             auto (default: the GPU when there is one), cpu or cuda\n"
    "  --threads N            CPU threads (default: all)\n"
    "  --max-context N        positions to plan state for (default 4096)\n"
    "  --precision P          CUDA prefill products: fast (bf16 operands, default) or exact (float32-faithful)\n"
    "  --temperature T        0 = greedy (default 0)\n"
    "  --top-k K, --top-p P, --seed S   sampling settings\n"
    "  --ignore-eos           keep generating past end-of-turn tokens\n"
    "  --speculative M        off (default) or lookup: speculative decoding with prompt-lookup drafts,\n"
    "                         verified in one forward pass (same tokens when greedy)\n";

std::vector<engine::Token> parse_ids(const std::string& s) {
  std::vector<engine::Token> ids;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (part.empty()) continue;
    try {
      size_t used = 0;
      long v = std::stol(part, &used);
      if (used != part.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument("");
      ids.push_back(static_cast<engine::Token>(v));
    } catch (const std::exception&) {
      throw Error("--prompt-tokens: '" + part + "' is not a token id", ErrorKind::invalid_request);
    }
  }
  if (ids.empty()) throw Error("--prompt-tokens: no ids given", ErrorKind::invalid_request);
  return ids;
}

int run_generate(int argc, char** argv) {
  engine::LoadOptions load;
  load.max_context = 4096;
  std::string prompt_text, prompt_ids, tokenizer_path;
  bool have_text = false, ignore_eos = false, speculative = false;
  int64_t random_prompt = 0, max_tokens = 64;
  engine::GenerateParams params;
  params.sampling.temperature = 0;
  hearth::app::ArgCursor args(argc, argv);
  while (args.more()) {
    const std::string arg = args.next();
    auto number = [&](double lo, double hi) {
      const std::string v = args.value();
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || x < lo || x > hi) {
        throw Error(arg + ": '" + v + "' is not a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]",
                    ErrorKind::invalid_request);
      }
      return x;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--model") {
      load.model_dir = hearth::hub::locate_model(args.value()).dir;
    } else if (arg == "--demo") {
      load.model_dir = engine::write_demo_model_dir(std::filesystem::temp_directory_path() / "hearth-demo-model");
      load.format = engine::LoadFormat::dummy;
    } else if (arg == "--load-format") {
      const std::string f = args.value();
      if (f == "dummy") load.format = engine::LoadFormat::dummy;
      else if (f == "safetensors" || f == "auto") load.format = engine::LoadFormat::safetensors;
      else throw Error("--load-format: '" + f + "' is not one of safetensors, dummy", ErrorKind::invalid_request);
    } else if (arg == "--prompt") {
      prompt_text = args.value();
      have_text = true;
    } else if (arg == "--prompt-tokens") {
      prompt_ids = args.value();
    } else if (arg == "--random-prompt") {
      random_prompt = static_cast<int64_t>(number(1, 1 << 24));
    } else if (arg == "--tokenizer") {
      tokenizer_path = args.value();
    } else if (arg == "--max-tokens") {
      max_tokens = static_cast<int64_t>(number(0, 1 << 24));
    } else if (arg == "--device") {
      load.device = engine::parse_device(args.value());
    } else if (arg == "--threads") {
      load.threads = static_cast<int>(number(0, 4096));
    } else if (arg == "--max-context") {
      load.max_context = static_cast<int64_t>(number(2, 1 << 24));
    } else if (arg == "--precision") {
      load.precision = engine::parse_precision(args.value());
    } else if (arg == "--temperature") {
      params.sampling.temperature = static_cast<float>(number(0, 100));
    } else if (arg == "--top-k") {
      params.sampling.top_k = static_cast<int32_t>(number(0, 1 << 30));
    } else if (arg == "--top-p") {
      params.sampling.top_p = static_cast<float>(number(0, 1));
    } else if (arg == "--seed") {
      params.sampling.seed = static_cast<uint64_t>(number(0, 1e18));
    } else if (arg == "--speculative") {
      const std::string m = args.value();
      if (m == "off") speculative = false;
      else if (m == "lookup") speculative = true;
      else throw Error("--speculative: '" + m + "' is not one of off, lookup (mtp is not built yet)", ErrorKind::invalid_request);
    } else if (arg == "--ignore-eos") {
      ignore_eos = true;
    } else {
      throw Error("unknown option '" + arg + "'\n" + kUsage, ErrorKind::invalid_request);
    }
  }
  if (load.model_dir.empty()) throw Error(std::string("--model (or --demo) is required\n") + kUsage, ErrorKind::invalid_request);
  if (static_cast<int>(have_text) + !prompt_ids.empty() + (random_prompt > 0) != 1) {
    throw Error("give exactly one of --prompt, --prompt-tokens, --random-prompt", ErrorKind::invalid_request);
  }

  std::shared_ptr<const hearth::chat::Tokenizer> tokenizer;
  // Default: the tokenizer.json of the model directory (or beside a config.json given as --model).
  const std::filesystem::path model_dir =
      std::filesystem::is_directory(load.model_dir) ? load.model_dir : load.model_dir.parent_path();
  if (!tokenizer_path.empty()) tokenizer = hearth::chat::Tokenizer::load(tokenizer_path);
  else if (std::filesystem::exists(model_dir / "tokenizer.json")) tokenizer = hearth::chat::Tokenizer::load(model_dir);
  if (have_text && !tokenizer) {
    throw Error("--prompt needs a tokenizer: no tokenizer.json in " + load.model_dir.string() +
                    " (pass --tokenizer PATH, or give --prompt-tokens)",
                ErrorKind::invalid_request);
  }

  const auto load_start = std::chrono::steady_clock::now();
  hearth::app::ProgressDisplay load_display;
  if (load.format == engine::LoadFormat::safetensors) load.progress = hearth::app::load_progress_view(load_display);
  auto model = engine::load_model(load);
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  std::fprintf(stderr, "model: %s\nloaded in %.2f s\n", model->info().description.c_str(), load_seconds);

  std::vector<engine::Token> prompt;
  if (have_text) prompt = tokenizer->encode(prompt_text);
  else if (!prompt_ids.empty()) prompt = parse_ids(prompt_ids);
  else {
    std::mt19937_64 rng(params.sampling.seed + 1);
    for (int64_t i = 0; i < random_prompt; ++i) prompt.push_back(static_cast<engine::Token>(rng() % model->info().vocab_size));
  }

  if (tokenizer && !ignore_eos) {
    for (const char* stop : {"<|im_end|>", "<|endoftext|>"}) {
      if (auto id = tokenizer->token_id(stop)) params.stop_tokens.push_back(*id);
    }
  }
  // A padded embedding (rows past the tokenizer's vocabulary) must not produce ids the decoder lacks.
  if (tokenizer) params.sampling.vocab_limit = tokenizer->vocab_size();
  params.max_new_tokens = max_tokens;
  std::unique_ptr<hearth::chat::StreamDecoder> decoder;
  if (tokenizer) decoder = std::make_unique<hearth::chat::StreamDecoder>(*tokenizer);
  bool first = true;
  params.on_token = [&](engine::Token t) {
    if (decoder) {
      std::fputs(decoder->push(t).c_str(), stdout);
    } else {
      std::printf(first ? "%d" : " %d", t);
    }
    first = false;
    std::fflush(stdout);
    return true;
  };
  serve::LookupDrafter drafter;
  if (speculative) params.drafter = &drafter;
  const engine::GenerateResult r = engine::generate(*model, prompt, params);
  if (decoder) std::fputs(decoder->finish().c_str(), stdout);
  std::printf("\n");
  std::fflush(stdout);

  const double prefill_tps = r.prefill_seconds > 0 ? static_cast<double>(r.prefilled_tokens) / r.prefill_seconds : 0;
  // Decode steps run: every generated token is fed back except the last when the budget ran out (the
  // first token comes from the prefill's logits).
  const int64_t generated = static_cast<int64_t>(r.generated.size());
  const int64_t steps = r.finish == engine::FinishReason::max_tokens ? std::max<int64_t>(0, generated - 1) : generated;
  const double decode_seconds = r.decode_seconds;
  const double decode_tps = decode_seconds > 0 && steps > 0 ? static_cast<double>(steps) / decode_seconds : 0;
  std::fprintf(stderr, "prefill: %lld tokens in %.3f s (%.1f tokens/s)\n", static_cast<long long>(r.prefilled_tokens),
               r.prefill_seconds, prefill_tps);
  std::fprintf(stderr, "decode: %lld tokens in %.3f s (%.2f tokens/s)\n", static_cast<long long>(steps), decode_seconds,
               decode_tps);
  if (speculative) {
    std::fprintf(stderr, "speculative: %lld verification steps, %lld drafted, %lld accepted (%.0f%%)\n",
                 static_cast<long long>(r.verify_steps), static_cast<long long>(r.drafted), static_cast<long long>(r.accepted),
                 r.drafted ? 100.0 * double(r.accepted) / double(r.drafted) : 0.0);
  }
  return 0;
}

const hearth::app::CommandRegistration reg{"generate", "Run one prompt through a model; print the completion and speed",
                                           run_generate};

}  // namespace
