#pragma once
// Byte sizes as users write them on the command line: "4096", "512M", "8G", "1.5GiB", "0".
#include <cstddef>
#include <string>
#include <string_view>

namespace hearth::cache {

// K/M/G/T (optionally followed by "B" or "iB") are powers of 1024. Throws hearth::Error(invalid_request)
// naming `what` for anything else.
size_t parse_byte_size(std::string_view text, std::string_view what);
std::string format_byte_size(size_t bytes);  // "63.0 MiB"

}  // namespace hearth::cache
