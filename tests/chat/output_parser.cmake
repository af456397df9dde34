# Output parser tests: behaviour on whole generations, streaming (what each push emits), typing helpers;
# they use a small fake tokenizer. One more test runs the parser on the real Qwen3 tokenizer's ids.
hearth_test(output_parser_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/output_parser_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/output_parser_streaming_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/output_parser_typing_test.cpp
  LIBS hearth_parser)
hearth_test(output_parser_qwen3_tokenizer_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/output_parser_qwen3_tokenizer_test.cpp
  LIBS hearth_parser hearth_tokenizer)
