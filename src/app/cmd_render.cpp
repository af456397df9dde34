// hearth render: prints the exact prompt a request renders to (and its token ids), for checking the
// chat format by hand.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "api/errors.h"
#include "api/request_parser.h"
#include "app/args.h"
#include "app/command.h"
#include "chat/renderer.h"
#include "chat/tokenizer.h"
#include "util/error.h"

namespace {

constexpr const char* kUsage =
    "usage: hearth render REQUEST.json [--model-type TYPE] [--thinking on|off] [--preserve-thinking]\n"
    "                     [--no-generation-prompt] [--tokenizer DIR|FILE] [--no-tokens]\n"
    "Prints the prompt text an Anthropic Messages request (a POST /v1/messages body, validated as the server\n"
    "does) renders to, then the byte offsets of its message boundaries and, given a tokenizer, its token ids.\n"
    "  --model-type         config.json model_type: qwen3_5_moe (default), qwen3_5, qwen3, qwen3_moe\n"
    "  --thinking           generation prompt with thinking on or off (default: off only when the\n"
    "                       request says thinking {\"type\": \"disabled\"})\n"
    "  --preserve-thinking  keep the reasoning of past assistant turns (Qwen3.6)\n"
    "  --tokenizer          tokenizer.json or a model directory (default: .deps/qwen3-tokenizer if present;\n"
    "                       that is Qwen3's vocabulary, not Qwen3.5's)\n";

constexpr const char* kDefaultTokenizer = ".deps/qwen3-tokenizer";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw hearth::Error("cannot open " + path, hearth::ErrorKind::io);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

struct RenderArgs {
  std::string request_path;
  std::string model_type = "qwen3_5_moe";
  std::string thinking;  // "", "on" or "off"
  bool preserve_thinking = false;
  bool generation_prompt = true;
  std::string tokenizer;
  bool tokens = true;
};

// Returns false (after printing usage) when the arguments are not usable.
bool parse_args(int argc, char** argv, RenderArgs& a, int& exit_code) {
  hearth::app::ArgCursor args(argc, argv);
  while (args.more()) {
    const std::string arg = args.next();
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      exit_code = 0;
      return false;
    } else if (arg == "--model-type") {
      a.model_type = args.value();
    } else if (arg == "--thinking") {
      a.thinking = args.value();
      if (a.thinking != "on" && a.thinking != "off") {
        throw hearth::Error("--thinking takes on or off, not '" + a.thinking + "'", hearth::ErrorKind::invalid_request);
      }
    } else if (arg == "--preserve-thinking") {
      a.preserve_thinking = true;
    } else if (arg == "--no-generation-prompt") {
      a.generation_prompt = false;
    } else if (arg == "--tokenizer") {
      a.tokenizer = args.value();
    } else if (arg == "--no-tokens") {
      a.tokens = false;
    } else if (!arg.starts_with("-") && a.request_path.empty()) {
      a.request_path = arg;
    } else {
      std::fprintf(stderr, "hearth render: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      exit_code = 2;
      return false;
    }
  }
  if (a.request_path.empty()) {
    std::fputs(kUsage, stderr);
    exit_code = 2;
    return false;
  }
  return true;
}

int run_render(int argc, char** argv) {
  RenderArgs args;
  int exit_code = 0;
  if (!parse_args(argc, argv, args, exit_code)) return exit_code;

  // The server's own parser (as for count_tokens: max_tokens optional), so that the prompt shown is the
  // one the server would render.
  hearth::api::MessagesRequest request;
  try {
    request = hearth::api::parse_messages_request(read_file(args.request_path), hearth::api::RequestKind::count_tokens);
  } catch (const hearth::api::ApiError& e) {
    throw hearth::Error(args.request_path + ": " + e.what(), hearth::ErrorKind::invalid_request);
  }

  hearth::chat::RenderOptions options;
  options.enable_thinking = args.thinking.empty() ? request.thinking.mode != hearth::api::ThinkingMode::disabled
                                                  : args.thinking == "on";
  options.preserve_thinking = args.preserve_thinking;
  options.add_generation_prompt = args.generation_prompt;
  const auto renderer = hearth::chat::Renderer::create(hearth::chat::chat_format_for_model_type(args.model_type));
  const auto prompt = renderer->render(request, options);

  std::fwrite(prompt.text.data(), 1, prompt.text.size(), stdout);
  std::string offsets;
  for (size_t b : prompt.boundaries) offsets += (offsets.empty() ? "" : " ") + std::to_string(b);
  std::printf("\n--- %zu bytes; message boundaries at byte offsets: %s\n", prompt.text.size(), offsets.c_str());

  std::string tokenizer_path = args.tokenizer;
  if (tokenizer_path.empty() && std::filesystem::exists(kDefaultTokenizer)) tokenizer_path = kDefaultTokenizer;
  if (!args.tokens || tokenizer_path.empty()) return 0;
  const auto tokenizer = hearth::chat::Tokenizer::load(tokenizer_path);
  const auto ids = tokenizer->encode(prompt.text);
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
  std::printf("--- %zu tokens (tokenizer %s):\n%s\n", ids.size(), tokenizer_path.c_str(), line.c_str());
  return 0;
}

const hearth::app::CommandRegistration registration{"render", "Print the prompt (and token ids) a request renders to",
                                                    run_render};

}  // namespace
