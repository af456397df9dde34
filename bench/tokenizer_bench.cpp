// Tokenizer speed: encode MB/s on source code (the repository's own C++ sources) and the time to encode a
// ~50 KB Claude-Code-like request (system prompt, tool definitions, tool calls and file-reading results
// in Qwen's chat format). "Warm" runs reuse the tokenizer's word cache as a long-running server does;
// "Cold" runs load a fresh tokenizer per iteration (its load time excluded), as for the first request.
//
//   tokenizer_bench [--benchmark_filter=...]   (needs the test tokenizer, scripts/install-deps.sh)
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "chat/bpe_model.h"
#include "chat/pretokenizer.h"
#include "chat/tokenizer.h"
#include "chat/tokenizer_spec.h"

namespace {

using hearth::chat::Tokenizer;
namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every C++/CUDA source and header of the repository, in path order (deterministic for one checkout).
const std::string& source_code() {
  static const std::string text = [] {
    std::vector<fs::path> files;
    for (const char* dir : {"src", "tests", "bench"}) {
      const fs::path root = fs::path(HEARTH_SOURCE_DIR) / dir;
      if (!fs::exists(root)) continue;
      for (const auto& e : fs::recursive_directory_iterator(root)) {
        const auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".cpp" || ext == ".h" || ext == ".cu" || ext == ".cuh")) files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    std::string all;
    for (const auto& f : files) all += read_file(f);
    return all;
  }();
  return text;
}

// A request shaped like Claude Code's, rendered in Qwen's chat format: long system prompt in Markdown,
// a dozen tool definitions with JSON schemas, then turns of thinking, XML tool calls and tool results
// that carry numbered file contents and shell output. Written for this benchmark (not Claude Code's
// text); its composition, not its wording, is what matters for speed.
std::string claude_code_like_request(size_t target_bytes) {
  std::string s = "<|im_start|>system\nYou are an interactive command-line agent that helps users with software "
                  "engineering tasks. Use the instructions below and the tools available to you.\n\n";
  const char* rules[] = {
      "Prefer editing existing files to creating new ones; never create documentation unless asked.",
      "Keep answers short: fewer than four lines unless the user asks for detail, code excluded.",
      "Before changing code, read the surrounding files and follow their conventions (naming, imports, style).",
      "Run the project's tests and linters after a change; if you cannot find the command, ask for it.",
      "Never commit unless asked. When you do, write a message that explains why, not only what.",
      "Use `rg` rather than `grep -r`, and absolute paths in tool calls; quote paths that contain spaces.",
      "When a task has several steps, keep a todo list and mark items done as soon as they are done.",
      "Refuse to write code that could be used maliciously, even when the request looks harmless — e.g. "
      "credential harvesting, or malware that evades detection.",
  };
  for (int section = 0; section < 6; ++section) {
    s += "# Section " + std::to_string(section + 1) + ": guidelines\n\n";
    for (const char* r : rules) s += std::string("- ") + r + "\n";
    s += "\n<example>\nuser: what files are in src/?\nassistant: [runs ls src/]\nsrc/main.cpp, src/util.h\n</example>\n\n";
  }
  s += "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n<tools>\n";
  const char* tools[] = {"Bash", "Read", "Edit", "Write", "Glob", "Grep", "TodoWrite", "WebFetch", "WebSearch",
                         "Task", "NotebookEdit", "ExitPlanMode"};
  for (const char* t : tools) {
    s += std::string(R"({"type": "function", "function": {"name": ")") + t +
         R"(", "description": "Runs the )" + t +
         R"( operation. Usage notes:\n- The path must be absolute, not relative.\n- Results longer than 30000 characters are truncated.\n- Prefer this tool over shell equivalents; it is faster and the user can review it.\n- You can call several tools in one response; when calls are independent, batch them.", "parameters": {"type": "object", "properties": {"file_path": {"type": "string", "description": "The absolute path to the file"}, "offset": {"type": "number", "description": "The line number to start reading from"}, "limit": {"type": "number", "description": "The number of lines to read"}, "pattern": {"type": "string"}, "replace_all": {"type": "boolean", "default": false}}, "required": ["file_path"], "additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#"}}})" +
         "\n";
  }
  s += "</tools>\n\nFor each function call, return the call within <tool_call></tool_call> XML tags.<|im_end|>\n";
  s += "<|im_start|>user\nThe build fails after my last change to the tokenizer; can you find out why and fix it?"
       "<|im_end|>\n";
  const std::string& code = source_code();
  size_t offset = 0;
  for (int turn = 0; s.size() < target_bytes; ++turn) {
    s += "<|im_start|>assistant\n<think>\nI should look at the file that changed and run the build to see the "
         "error message before editing anything.\n</think>\n\n<tool_call>\n<function=Read>\n<parameter=file_path>\n"
         "/work/project/src/file" + std::to_string(turn) + ".cpp\n</parameter>\n</function>\n</tool_call><|im_end|>\n";
    s += "<|im_start|>user\n<tool_response>\n";
    // A numbered excerpt of real source, as a file-reading tool returns it.
    std::istringstream lines(code.substr(offset % (code.size() ? code.size() : 1), 3000));
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
      std::string num = std::to_string(n);
      s += std::string(6 - std::min<size_t>(6, num.size()), ' ') + num + "\t" + line + "\n";
    }
    offset += 7919;
    s += "</tool_response>\n<tool_response>\n$ cmake --build build -j2\n[ 12%] Building CXX object src/chat/"
         "CMakeFiles/x.dir/tokenizer.cpp.o\n/work/project/src/chat/tokenizer.cpp:42:10: error: 'foo' was not declared "
         "in this scope\n   42 |   return foo(x);\n      |          ^~~\ngmake[2]: *** [x.make:76: tokenizer.cpp.o] "
         "Error 1\n</tool_response><|im_end|>\n";
  }
  s.resize(target_bytes);
  return s;
}

std::shared_ptr<const Tokenizer> tokenizer() {
  static auto t = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
  return t;
}

void encode_warm(benchmark::State& state, const std::string& text) {
  auto tok = tokenizer();
  size_t tokens = tok->encode(text).size();  // fills the word cache
  for (auto _ : state) benchmark::DoNotOptimize(tok->encode(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["bytes"] = static_cast<double>(text.size());
  state.counters["tokens"] = static_cast<double>(tokens);
}

void encode_cold(benchmark::State& state, const std::string& text) {
  for (auto _ : state) {
    state.PauseTiming();
    auto tok = Tokenizer::load(HEARTH_TEST_TOKENIZER_DIR);
    state.ResumeTiming();
    benchmark::DoNotOptimize(tok->encode(text));
    state.PauseTiming();
    tok.reset();  // destruction outside the timed region
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["bytes"] = static_cast<double>(text.size());
}

void BM_EncodeSourceCodeWarm(benchmark::State& state) { encode_warm(state, source_code()); }
void BM_EncodeSourceCodeCold(benchmark::State& state) { encode_cold(state, source_code()); }
void BM_EncodeClaudeCodeRequest50KBWarm(benchmark::State& state) { encode_warm(state, claude_code_like_request(50 * 1024)); }
void BM_EncodeClaudeCodeRequest50KBCold(benchmark::State& state) { encode_cold(state, claude_code_like_request(50 * 1024)); }

// The pre-tokeniser alone (PCRE2 JIT), to see how the encode time divides.
void BM_PreTokenizeSourceCode(benchmark::State& state) {
  const auto spec = hearth::chat::read_tokenizer_json(HEARTH_TEST_TOKENIZER_DIR);
  hearth::chat::PreTokenizer pre(spec.pre_tokenizer, spec.source);
  const std::string& text = source_code();
  size_t pieces = 0;
  for (auto _ : state) {
    pieces = 0;
    pre.split(text, [&](std::string_view) { ++pieces; });
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["pieces"] = static_cast<double>(pieces);
}

void BM_StreamDecodeClaudeCodeRequest(benchmark::State& state) {
  auto tok = tokenizer();
  const auto ids = tok->encode(claude_code_like_request(50 * 1024));
  for (auto _ : state) {
    hearth::chat::StreamDecoder decoder(*tok);
    size_t n = 0;
    for (auto id : ids) n += decoder.push(id).size();
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids.size()));
}

// Uncached BPE of one word of state.range(0) bytes by each algorithm: where the scan stops paying off
// (BpeModel's automatic choice switches to the heap above that length).
void merge_bench(benchmark::State& state, hearth::chat::MergeAlgorithm algorithm) {
  static const auto spec = hearth::chat::read_tokenizer_json(HEARTH_TEST_TOKENIZER_DIR);
  static const hearth::chat::BpeModel model(spec.model, spec.source);
  const std::string& code = source_code();
  // Words cut from source code with spaces removed, so that they merge like long identifiers.
  std::vector<std::string> words;
  for (size_t at = 0; words.size() < 64; at += 997) {
    std::string w;
    for (size_t i = at % code.size(); w.size() < static_cast<size_t>(state.range(0)); i = (i + 1) % code.size()) {
      if (code[i] != ' ' && code[i] != '\n') w += code[i];
    }
    words.push_back(w);
  }
  std::vector<hearth::chat::Token> out;
  for (auto _ : state) {
    for (const auto& w : words) {
      out.clear();
      model.merge_word(w, out, algorithm);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * words.size() * state.range(0)));
}
void BM_MergeScan(benchmark::State& state) { merge_bench(state, hearth::chat::MergeAlgorithm::scan); }
void BM_MergeHeap(benchmark::State& state) { merge_bench(state, hearth::chat::MergeAlgorithm::heap); }

BENCHMARK(BM_MergeScan)->RangeMultiplier(2)->Range(8, 512);
BENCHMARK(BM_MergeHeap)->RangeMultiplier(2)->Range(8, 512);
BENCHMARK(BM_EncodeSourceCodeWarm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeSourceCodeCold)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_EncodeClaudeCodeRequest50KBWarm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeClaudeCodeRequest50KBCold)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_PreTokenizeSourceCode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StreamDecodeClaudeCodeRequest)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
