// libFuzzer target for the tokenizer on arbitrary bytes, with the real Qwen3 tokenizer.json
// ($HEARTH_FUZZ_TOKENIZER, else .deps/qwen3-tokenizer under the source directory). Checks:
//  - encode never throws and every id is inside the vocabulary;
//  - decode(encode(x)) re-encodes to the same ids (the text the model sees is stable: encode already
//    sanitised and normalised it);
//  - a StreamDecoder fed the ids one at a time yields valid UTF-8 that, concatenated, is decode()'s
//    text with invalid bytes replaced.
#include <cstdint>
#include <memory>
#include <string>

#include "chat/tokenizer.h"
#include "fuzz_util.h"
#include "util/utf8.h"

namespace {

using hearth::fuzz::fail;

const hearth::chat::Tokenizer& tokenizer() {
  static const std::shared_ptr<const hearth::chat::Tokenizer> tok = [] {
    const char* path = std::getenv("HEARTH_FUZZ_TOKENIZER");
    return hearth::chat::Tokenizer::load(path ? std::filesystem::path(path)
                                              : hearth::fuzz::source_dir() / ".deps/qwen3-tokenizer");
  }();
  return *tok;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)tokenizer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const hearth::chat::Tokenizer& tok = tokenizer();
  const std::string_view text = hearth::fuzz::as_text(data, size);
  std::vector<hearth::chat::Token> ids;
  std::string decoded;
  try {
    ids = tok.encode(text);
    for (auto id : ids) {
      if (id < 0 || id >= tok.vocab_size()) fail("id out of range: " + std::to_string(id));
    }
    decoded = tok.decode(ids);
    if (tok.encode(decoded) != ids) fail("decode(encode(x)) encodes differently");
  } catch (const std::exception& e) {
    fail(std::string("exception: ") + e.what());
  }
  hearth::chat::StreamDecoder stream(tok);
  std::string streamed;
  for (auto id : ids) {
    std::string piece = stream.push(id);
    if (!hearth::utf8::is_valid(piece)) fail("stream decoder produced invalid UTF-8");
    streamed += piece;
  }
  streamed += stream.finish();
  if (streamed != hearth::utf8::sanitize(decoded)) fail("stream decoding differs from decode()");
  return 0;
}
