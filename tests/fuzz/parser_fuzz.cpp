// libFuzzer target for the streaming output parser. The input picks parser options and a token stream
// over a vocabulary rich in the parser's markup (whole tags, tag fragments, tool and parameter names,
// JSON pieces, partial UTF-8); it then checks, after every push and at the end:
//  - the event invariants of tests/chat/output_parser_invariants.h (one open block at a time, deltas
//    inside it, valid UTF-8, trimmed non-empty text/thinking blocks, tool input a JSON object at its end);
//  - that the same text fed one byte per token gives the same blocks (tokenization never matters);
//  - no exception, crash, sanitizer report or hang (libFuzzer's -timeout).
// Built by tests/fuzz/build_and_run.sh with clang++ -fsanitize=fuzzer,address,undefined.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>
#include <string>
#include <vector>

#include "chat/output_parser.h"
#include "output_parser_fake_tokenizer.h"
#include "output_parser_invariants.h"

namespace {

using hearth::BlockKind;
using hearth::EventType;
using hearth::ContentEvent;
using hearth::chat::OutputParser;
using hearth::chat::ParserOptions;
using hearth::chat::Token;
using hearth::chat::parser_test::EventChecker;
using hearth::chat::parser_test::FakeTokenizer;

const char* const kPieces[] = {
    "<think>", "</think>", "<tool_call>", "</tool_call>", "<function=", "</function>", "<parameter=",
    "</parameter>", "<", ">", "</", "<t", "<tool", "_call>", "</tool", "<func", "tion=", "<para", "meter=",
    "</para", "meter>", "ink>", "\n", "\n\n", " ", "\t", ">\n", "\n</", ">\n<", "Bash", "Read", "TodoWrite",
    "Config", "Nope", "command", "timeout", "run_in_background", "file_path", "todos", "settings", "level",
    "mode", "ls -la", "120", "1.5", "true", "True", "None", "null", "[1, 2]", "{\"a\": 1}", "{'a': True}",
    "{\"name\": \"Bash\", \"arguments\": {", "{\"name\": \"Nope\", \"arguments\": {", "\"command\": \"",
    "\"timeout\": \"60\"", "{", "}", "[", "]", "\"", "\\", "\\\"", ",", ":", "é", "中文", "😀", "\xF0\x9F",
    "\x98\x80", "\xE4\xB8", "\xAD", "\xFF", "\xC0", "hello", "<|im_end|>", "<|endoftext|>"};
constexpr size_t kPieceCount = sizeof(kPieces) / sizeof(kPieces[0]);

FakeTokenizer& tokenizer() {
  static FakeTokenizer* tok = new FakeTokenizer();
  return *tok;
}

// Id of each piece: the special token where the text is one (so tags also arrive as special ids).
const std::vector<Token>& piece_ids() {
  static const std::vector<Token> ids = [] {
    std::vector<Token> v;
    for (const char* p : kPieces) {
      auto id = tokenizer().token_id(p);
      v.push_back(id ? *id : tokenizer().intern(p));
    }
    return v;
  }();
  return ids;
}

bool is_end_of_turn(const char* piece) {
  return std::string_view(piece) == "<|im_end|>" || std::string_view(piece) == "<|endoftext|>";
}

ParserOptions options(uint8_t flags) {
  ParserOptions o;
  o.emit_thinking = (flags & 1) != 0;
  o.starts_in_thinking = (flags & 2) != 0;
  auto tool = [](const char* name, const char* schema) {
    hearth::api::Tool t;
    t.name = name;
    t.input_schema = hearth::api::Json::parse(schema);
    return t;
  };
  if ((flags & 4) == 0) {
    o.tools.push_back(tool("Bash", R"({"type":"object","properties":{"command":{"type":"string"},)"
                                   R"("timeout":{"type":"integer"},"run_in_background":{"type":"boolean"}}})"));
    o.tools.push_back(tool("Read", R"({"properties":{"file_path":{"type":"string"},"offset":{"type":"number"}}})"));
    o.tools.push_back(tool("TodoWrite", R"({"properties":{"todos":{"type":"array"}}})"));
    o.tools.push_back(tool("Config", R"({"properties":{"settings":{"type":"object"},)"
                                     R"("level":{"anyOf":[{"type":"integer"},{"type":"null"}]},)"
                                     R"("mode":{"type":["string","null"]}}})"));
  }
  return o;
}

struct Outcome {
  std::vector<std::pair<BlockKind, std::string>> blocks;  // kind, name + content
  int tool_calls = 0;
};

std::string escaped(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "parser_fuzz: %s\n", what.c_str());
  std::abort();
}

Outcome run(const std::vector<Token>& ids, const ParserOptions& opts) {
  FakeTokenizer& tok = tokenizer();
  std::set<std::string> names;
  for (const auto& t : opts.tools) names.insert(t.name);
  EventChecker checker(names, opts.emit_thinking);
  Outcome out;
  auto collect = [&](const std::vector<ContentEvent>& events) {
    const std::string err = checker.add(events);
    if (!err.empty()) fail(err);
    for (const ContentEvent& e : events) {
      if (e.type == EventType::block_start) out.blocks.emplace_back(e.kind, e.tool_name + "|");
      if (e.type == EventType::block_delta) out.blocks.back().second += e.text;
    }
  };
  try {
    OutputParser parser(tok, opts);
    for (Token id : ids) collect(parser.push(id));
    collect(parser.finish());
    out.tool_calls = parser.tool_calls();
  } catch (const std::exception& e) {
    fail(std::string("exception: ") + e.what());
  }
  const std::string err = checker.finish(out.tool_calls);
  if (!err.empty()) fail(err);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  FakeTokenizer& tok = tokenizer();
  const ParserOptions opts = options(data[0]);
  // Each byte below kPieceCount picks a vocabulary piece; anything else is a raw byte token (the next
  // input byte), so every byte sequence is reachable too.
  std::vector<Token> ids;
  std::string text;
  bool has_end_tokens = false;
  for (size_t i = 1; i < size; ++i) {
    Token id;
    if (data[i] < kPieceCount) {
      id = piece_ids()[data[i]];
      has_end_tokens |= is_end_of_turn(kPieces[data[i]]);
    } else if (i + 1 < size) {
      id = data[++i];
    } else {
      break;
    }
    ids.push_back(id);
    text += tok.token_bytes(id);
  }
  const Outcome pieces = run(ids, opts);
  if (!has_end_tokens) {  // end-of-turn ids are ignored only as ids, so skip the comparison with them
    std::vector<Token> bytes;
    for (char c : text) bytes.push_back(static_cast<unsigned char>(c));
    const Outcome by_byte = run(bytes, opts);
    if (by_byte.blocks != pieces.blocks || by_byte.tool_calls != pieces.tool_calls) {
      std::fprintf(stderr, "flags %d, text:\n%s\n", data[0], escaped(text).c_str());
      for (const auto* o : {&pieces, &by_byte}) {
        std::fprintf(stderr, o == &pieces ? "as pieces:\n" : "one byte per token:\n");
        for (const auto& [kind, content] : o->blocks)
          std::fprintf(stderr, "  %d %s\n", static_cast<int>(kind), escaped(content).c_str());
      }
      fail("result depends on tokenization");
    }
  }
  return 0;
}
