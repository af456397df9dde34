#include "chat/tokenizer_normalizer.h"

#include <utf8proc.h>

#include <cstdlib>

#include "util/error.h"

namespace hearth::chat {
namespace {

// NFC of one chunk, appended to `out`.
void append_nfc(std::string_view chunk, std::string& out) {
  utf8proc_uint8_t* result = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(chunk.data()), static_cast<utf8proc_ssize_t>(chunk.size()),
                   &result, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    std::free(result);
    throw Error(std::string("NFC normalisation failed: ") + utf8proc_errmsg(n), ErrorKind::internal);
  }
  out.append(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
  std::free(result);
}

// NFC, touching only the non-ASCII stretches. An ASCII character never composes with the character
// before it and is never reordered, so the text can be cut right before any ASCII byte and each chunk
// normalised alone. A chunk starts one character early so that an ASCII base letter is composed with
// the combining mark after it ("e" + U+0301 -> "é").
std::string_view nfc(std::string_view text, std::string& storage) {
  size_t first = 0;
  while (first < text.size() && static_cast<unsigned char>(text[first]) < 0x80) ++first;
  if (first == text.size()) return text;
  storage.clear();
  storage.reserve(text.size() + text.size() / 8);
  size_t done = 0;  // text[0, done) has been copied or normalised into storage
  size_t i = first;
  while (i < text.size()) {
    // text[i] starts a non-ASCII stretch; its chunk begins at the ASCII character before it, if any.
    const size_t chunk_start = i > done ? i - 1 : i;
    storage.append(text.substr(done, chunk_start - done));
    size_t end = i;
    while (end < text.size() && static_cast<unsigned char>(text[end]) >= 0x80) ++end;
    append_nfc(text.substr(chunk_start, end - chunk_start), storage);
    done = end;
    i = end;
    while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;
  }
  storage.append(text.substr(done));
  return storage;
}

}  // namespace

std::string_view normalize_text(Normalization form, std::string_view text, std::string& storage) {
  switch (form) {
    case Normalization::none:
      return text;
    case Normalization::nfc:
      return nfc(text, storage);
  }
  return text;
}

}  // namespace hearth::chat
