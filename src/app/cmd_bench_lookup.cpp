// hearth bench-lookup: what prompt-lookup drafting (serve/prompt_lookup.h) would buy on recorded agent
// traffic. Replays Anthropic request bodies (one JSON file per request, in name order), renders each as
// the server does, and replays every assistant turn they contain, teacher-forced
// (serve/lookup_replay.h): drafted and accepted tokens, mean accepted length per verification step,
// and the decode speed-up implied by the verification-cost table.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "api/errors.h"
#include "api/request_parser.h"
#include "app/args.h"
#include "app/command.h"
#include "chat/renderer.h"
#include "chat/tokenizer.h"
#include "hub/hf_cache.h"
#include "serve/lookup_replay.h"
#include "util/error.h"

namespace {

using hearth::Error;
using hearth::ErrorKind;
namespace fs = std::filesystem;
namespace serve = hearth::serve;

constexpr const char* kUsage =
    "usage: hearth bench-lookup --requests DIR (--tokenizer PATH | --model DIR|ORG/NAME) [options]\n"
    "Replays recorded Anthropic request bodies (DIR/*.json, in name order) through the server's renderer\n"
    "and measures prompt-lookup drafting on every assistant turn they contain (each turn once, however\n"
    "many later requests repeat it), teacher-forced: the turn's own tokens decide what is accepted.\n"
    "  --tokenizer PATH      tokenizer.json or a directory holding one (else the --model directory's)\n"
    "  --model DIR           model directory (or hub repository id): its tokenizer and model_type\n"
    "  --model-type TYPE     chat format: qwen3_5_moe (default, or the model's), qwen3_5, qwen3, qwen3_moe\n"
    "  --preserve-thinking   render past assistant reasoning (Qwen3.6)\n"
    "  --verify-cost TABLE   k:ratio,... cost of a forward pass of k tokens (the pending token plus k-1\n"
    "                        drafts) over a one-token decode step (default 1:1.0,2:1.05,4:1.15,8:1.4;\n"
    "                        linear between points, extended beyond the last)\n"
    "  --max-ngram N         longest suffix looked up (default 4)\n"
    "  --min-ngram N         shortest suffix looked up (default 2)\n"
    "  --max-draft N         most tokens proposed per step (default 8)\n"
    "  --json                one JSON object on stdout (per turn and overall)\n";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path.string(), ErrorKind::io);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string model_type_of(const fs::path& dir) {
  const auto config = nlohmann::json::parse(read_file(dir / "config.json"), nullptr, false);
  if (config.is_object() && config.contains("model_type") && config["model_type"].is_string()) return config["model_type"];
  if (config.is_object() && config.contains("text_config") && config["text_config"].is_object() &&
      config["text_config"].contains("model_type")) {
    return config["text_config"]["model_type"];
  }
  throw Error((dir / "config.json").string() + " has no model_type", ErrorKind::invalid_request);
}

int parse_int(const std::string& flag, const std::string& v, int lo, int hi) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n < lo || n > hi) {
    throw Error(flag + ": '" + v + "' is not a number from " + std::to_string(lo) + " to " + std::to_string(hi), ErrorKind::invalid_request);
  }
  return static_cast<int>(n);
}

struct TurnRecord {
  std::string request;
  int segment = 0;  // the assistant turn's message segment in the rendered prompt
  serve::LookupStats stats;
};

nlohmann::json stats_json(const serve::LookupStats& s) {
  return {{"turns", s.turns},
          {"tokens", s.tokens},
          {"steps", s.steps},
          {"draft_steps", s.draft_steps},
          {"drafted", s.drafted},
          {"accepted", s.accepted},
          {"acceptance_rate", s.acceptance_rate()},
          {"accepted_fraction", s.accepted_fraction()},
          {"tokens_per_step", s.tokens_per_step()},
          {"accepted_per_draft_step", s.accepted_per_draft_step()},
          {"cost", s.cost},
          {"speedup", s.speedup()}};
}

std::string stats_line(const serve::LookupStats& s) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%7lld tok %6lld drafted %6lld accepted (%5.1f%% of drafts, %5.1f%% of tokens)  %5.2f tok/step  x%.2f",
                static_cast<long long>(s.tokens), static_cast<long long>(s.drafted), static_cast<long long>(s.accepted),
                100 * s.acceptance_rate(), 100 * s.accepted_fraction(), s.tokens_per_step(), s.speedup());
  return buf;
}

int run_bench_lookup(int argc, char** argv) {
  std::string requests_dir, tokenizer_path, model_arg, model_type;
  bool json = false, preserve_thinking = false;
  serve::PromptLookupOptions lookup;
  serve::VerifyCostTable costs;
  hearth::app::ArgCursor args(argc, argv);
  while (args.more()) {
    const std::string arg = args.next();
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--requests") {
      requests_dir = args.value();
    } else if (arg == "--tokenizer") {
      tokenizer_path = args.value();
    } else if (arg == "--model") {
      model_arg = args.value();
    } else if (arg == "--model-type") {
      model_type = args.value();
    } else if (arg == "--preserve-thinking") {
      preserve_thinking = true;
    } else if (arg == "--verify-cost") {
      costs = serve::VerifyCostTable::parse(args.value());
    } else if (arg == "--max-ngram") {
      lookup.max_ngram = parse_int(arg, args.value(), 1, 64);
    } else if (arg == "--min-ngram") {
      lookup.min_ngram = parse_int(arg, args.value(), 1, 64);
    } else if (arg == "--max-draft") {
      lookup.max_draft = parse_int(arg, args.value(), 1, 64);
    } else if (arg == "--json") {
      json = true;
    } else {
      throw Error("unknown option '" + arg + "'\n" + kUsage, ErrorKind::invalid_request);
    }
  }
  if (requests_dir.empty()) throw Error(std::string("--requests DIR is required\n") + kUsage, ErrorKind::invalid_request);
  if (!model_arg.empty()) {
    const fs::path dir = hearth::hub::locate_model(model_arg).dir;
    if (tokenizer_path.empty()) tokenizer_path = dir.string();
    if (model_type.empty()) model_type = model_type_of(dir);
  }
  if (tokenizer_path.empty()) throw Error(std::string("--tokenizer or --model is required\n") + kUsage, ErrorKind::invalid_request);
  if (model_type.empty()) model_type = "qwen3_5_moe";
  lookup.initial_draft = std::min(lookup.initial_draft, lookup.max_draft);
  serve::PromptLookupDrafter probe(lookup);  // checks the options before any work

  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(requests_dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw Error(requests_dir + " holds no *.json request bodies", ErrorKind::not_found);

  const auto tokenizer = hearth::chat::Tokenizer::load(tokenizer_path);
  const auto renderer = hearth::chat::Renderer::create(hearth::chat::chat_format_for_model_type(model_type));
  const std::string header = "<|im_start|>assistant\n";
  const std::string empty_think = "<think>\n\n</think>\n\n";
  std::unordered_set<size_t> seen;  // hashes of the prompt text through each measured turn
  std::vector<TurnRecord> turns;
  serve::LookupStats overall;

  for (const fs::path& file : files) {
    hearth::api::MessagesRequest request;
    try {
      request = hearth::api::parse_messages_request(read_file(file), hearth::api::RequestKind::count_tokens);
    } catch (const hearth::api::ApiError& e) {
      throw Error(file.string() + ": " + e.what(), ErrorKind::invalid_request);
    }
    hearth::chat::RenderOptions options;
    options.enable_thinking = request.thinking.mode != hearth::api::ThinkingMode::disabled;
    options.preserve_thinking = preserve_thinking;
    options.add_generation_prompt = false;
    const auto prompt = renderer->render(request, options);
    const std::string_view text = prompt.text;
    // Message boundaries are token boundaries: each segment is tokenized on its own, and the drafter
    // sees the history segment by segment. An assistant segment is a turn the model generated, after
    // its header (and the empty think block a thinking-off generation prompt already holds).
    serve::PromptLookupDrafter drafter(lookup);
    std::vector<size_t> ends = prompt.boundaries;
    if (ends.empty() || ends.back() != text.size()) ends.push_back(text.size());
    size_t start = 0;
    int segment = 0;
    for (size_t end : ends) {
      if (end <= start) continue;
      const std::string_view piece = text.substr(start, end - start);
      const bool assistant = piece.starts_with(header);
      const size_t key = std::hash<std::string_view>{}(text.substr(0, end));
      if (!assistant || !seen.insert(key).second) {
        drafter.append(tokenizer->encode(piece));
      } else {
        size_t head = header.size();
        if (piece.substr(head).starts_with(empty_think)) head += empty_think.size();
        drafter.append(tokenizer->encode(piece.substr(0, head)));
        const auto body = tokenizer->encode(piece.substr(head));
        TurnRecord record{file.filename().string(), segment, serve::replay_turn(drafter, body, costs)};
        overall += record.stats;
        turns.push_back(std::move(record));
      }
      start = end;
      ++segment;
    }
  }

  if (json) {
    nlohmann::json out;
    out["requests"] = files.size();
    out["verify_cost"] = costs.describe();
    out["drafter"] = {{"max_ngram", lookup.max_ngram}, {"min_ngram", lookup.min_ngram}, {"max_draft", lookup.max_draft}};
    out["turns"] = nlohmann::json::array();
    for (const TurnRecord& t : turns) {
      nlohmann::json j = stats_json(t.stats);
      j["request"] = t.request;
      j["segment"] = t.segment;
      out["turns"].push_back(std::move(j));
    }
    out["overall"] = stats_json(overall);
    std::printf("%s\n", out.dump(1).c_str());
    return 0;
  }
  std::printf("prompt lookup (n-grams %d..%d, drafts up to %d), verification cost %s\n", lookup.max_ngram,
              lookup.min_ngram, lookup.max_draft, costs.describe().c_str());
  for (const TurnRecord& t : turns) {
    std::printf("%-32s seg %3d %s\n", t.request.c_str(), t.segment, stats_line(t.stats).c_str());
  }
  std::printf("overall: %zu requests, %lld turns: %s\n", files.size(), static_cast<long long>(overall.turns),
              stats_line(overall).c_str());
  return 0;
}

const hearth::app::CommandRegistration reg{"bench-lookup", "Measure prompt-lookup drafting on recorded requests",
                                           run_bench_lookup};

}  // namespace
