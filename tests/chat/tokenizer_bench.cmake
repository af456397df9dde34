# tokenizer_bench: Google Benchmark of encode speed (bench/tokenizer_bench.cpp). A tool, not a test.
add_executable(tokenizer_bench ${CMAKE_SOURCE_DIR}/bench/tokenizer_bench.cpp)
target_link_libraries(tokenizer_bench PRIVATE hearth_tokenizer benchmark::benchmark)
target_compile_definitions(tokenizer_bench PRIVATE
  HEARTH_TEST_TOKENIZER_DIR="${HEARTH_TEST_TOKENIZER_DIR}"
  HEARTH_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
