#pragma once
// GPT-2's byte-level alphabet: every byte 0..255 is given a printable Unicode character so that BPE
// vocabularies can be stored as text. Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand
// for themselves; the remaining 68 bytes (controls, space, DEL, NBSP, soft hyphen) are given
// U+0100.. in byte order, which is why a space appears as 'Ġ' (U+0120) and a newline as 'Ċ'.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hearth::chat::byte_level {

// The code point standing for `byte`.
char32_t char_for_byte(uint8_t byte);

// The byte a code point stands for, if it is one of the 256 alphabet characters.
std::optional<uint8_t> byte_for_char(char32_t c);

// Raw bytes to their byte-level text (UTF-8 of the alphabet characters).
std::string encode(std::string_view bytes);

// Byte-level text back to raw bytes. Characters outside the alphabet are kept as their own UTF-8
// (they cannot come from encode(); added tokens are stored that way). Returns nullopt when `text` is
// not valid UTF-8.
std::optional<std::string> decode(std::string_view text);

}  // namespace hearth::chat::byte_level
