// libFuzzer target for the files a model directory brings: the first input byte picks the loader, the
// rest is the file's contents.
//   0: tokenizer.json (parse_tokenizer_json, then building the tokenizer and encoding a few texts)
//   1: config.json (parse_model_config)
//   2: a safetensors file (SafetensorsFile::open on a file holding the bytes)
// Each loader must either accept the file or refuse it with hearth::Error naming the problem (not an
// internal error): no other exception, crash, sanitizer report, hang or huge allocation
// (-rss_limit_mb / -malloc_limit_mb). An accepted safetensors file's tensors must lie inside the file.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/tokenizer_bpe.h"
#include "chat/tokenizer_spec.h"
#include "engine/config.h"
#include "engine/safetensors.h"
#include "fuzz_util.h"
#include "util/error.h"

namespace {

using hearth::fuzz::fail;

void load_tokenizer(std::string_view text) {
  hearth::chat::TokenizerSpec spec = hearth::chat::parse_tokenizer_json(text, "fuzz/tokenizer.json");
  hearth::chat::ByteLevelBpeTokenizer tok(spec);
  for (std::string_view sample : {"hello world", "<|im_start|>user\n", "  x\t\xC3\xA9\xF0\x9F\x98\x80", ""}) {
    for (auto id : tok.encode(sample)) {
      if (id < 0 || id >= tok.vocab_size()) fail("id out of range");
      (void)tok.token_bytes(id);
    }
  }
}

void load_config(std::string_view text) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return;  // not JSON: load_model_config reports the parser's message; nothing of ours runs
  }
  (void)hearth::engine::parse_model_config(doc, "fuzz/config.json");
}

void load_safetensors(std::string_view bytes) {
  static const std::string path = "/tmp/hearth-fuzz-" + std::to_string(getpid()) + ".safetensors";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  auto file = hearth::engine::SafetensorsFile::open(path);
  for (const auto& [name, info] : file->tensors()) {
    if (info.bytes > bytes.size()) fail("tensor " + name + " larger than the file");
    if (info.bytes > 0 && info.data == nullptr) fail("tensor " + name + " without data");
    if (info.dtype && info.numel() < 0) fail("negative element count");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = hearth::fuzz::as_text(data + 1, size - 1);
  try {
    switch (data[0] % 3) {
      case 0: load_tokenizer(rest); break;
      case 1: load_config(rest); break;
      case 2: load_safetensors(rest); break;
    }
  } catch (const hearth::Error& e) {
    if (e.kind() == hearth::ErrorKind::internal) fail(std::string("internal error for a bad file: ") + e.what());
  } catch (const std::exception& e) {
    fail(std::string("unexpected exception: ") + e.what());
  }
  return 0;
}
