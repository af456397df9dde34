#pragma once
// Unicode normalisation of the text before pre-tokenisation (tokenizer.json "normalizer").
#include <string>
#include <string_view>

#include "chat/tokenizer_spec.h"

namespace hearth::chat {

// Returns `text` normalised as `form` asks. The result is either `text` itself (nothing to change, the
// common case for ASCII-heavy text) or a view of `storage`. `text` must be valid UTF-8.
std::string_view normalize_text(Normalization form, std::string_view text, std::string& storage);

}  // namespace hearth::chat
