// hearth tokenize: prints the token ids of a text, for checking prompts by hand and for scripts.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "app/args.h"
#include "app/command.h"
#include "chat/tokenizer.h"
#include "util/error.h"

namespace {

constexpr const char* kUsage =
    "usage: hearth tokenize --tokenizer DIR|FILE [--text TEXT | --file FILE] [--pieces]\n"
    "Prints the token ids of TEXT (or FILE, or standard input) one line, separated by spaces.\n"
    "  --tokenizer  a tokenizer.json or a model directory holding one\n"
    "  --pieces     also print each token's text, one per line (JSON-escaped)\n";

std::string read_all(std::istream& in) {
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

int run_tokenize(int argc, char** argv) {
  std::string tokenizer_path, text, file;
  bool have_text = false, pieces = false;
  hearth::app::ArgCursor args(argc, argv);
  while (args.more()) {
    const std::string arg = args.next();
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--tokenizer") {
      tokenizer_path = args.value();
    } else if (arg == "--text") {
      text = args.value();
      have_text = true;
    } else if (arg == "--file") {
      file = args.value();
    } else if (arg == "--pieces") {
      pieces = true;
    } else {
      std::fprintf(stderr, "hearth tokenize: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (tokenizer_path.empty() || (have_text && !file.empty())) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw hearth::Error("cannot open " + file, hearth::ErrorKind::io);
    text = read_all(in);
  } else if (!have_text) {
    text = read_all(std::cin);
  }
  auto tokenizer = hearth::chat::Tokenizer::load(tokenizer_path);
  const auto ids = tokenizer->encode(text);
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ' ';
    line += std::to_string(ids[i]);
  }
  std::printf("%s\n", line.c_str());
  if (pieces) {
    for (auto id : ids) std::printf("%d\t%s\n", id, json_escape(tokenizer->token_bytes(id)).c_str());
  }
  return 0;
}

const hearth::app::CommandRegistration registration{"tokenize", "Print the token ids of a text", run_tokenize};

}  // namespace
