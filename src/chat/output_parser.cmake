# Streaming output parser: generated tokens -> content-block events (thinking, text, tool_use).
# Uses only the Tokenizer interface (chat/tokenizer.h), so it does not link the tokenizer library.
add_library(hearth_parser STATIC
  output_parser.cpp
  output_parser_blocks.cpp
  json_typing.cpp
  tool_call_json.cpp)
target_link_libraries(hearth_parser PUBLIC hearth_util nlohmann_json::nlohmann_json)
