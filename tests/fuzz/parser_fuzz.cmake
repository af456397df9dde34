# Output parser fuzz target (libFuzzer needs clang; the project compiles with GCC). ctest runs a short,
# bounded fuzz session so CI exercises the target; tests/fuzz/build_and_run.sh builds the fuzzer and is
# also the way to run it for longer (see its header).
find_program(HEARTH_CLANGXX NAMES clang++ clang++-16 clang++-15 clang++-14)
if(HEARTH_CLANGXX)
  add_test(NAME parser_fuzz_smoke
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/build_and_run.sh ${CMAKE_CURRENT_BINARY_DIR}/parser_fuzz -runs=20000)
  set_tests_properties(parser_fuzz_smoke PROPERTIES
    ENVIRONMENT "CLANGXX=${HEARTH_CLANGXX}"
    TIMEOUT 900  # includes compiling the fuzzer with sanitizers on a first run
    LABELS fuzz)
else()
  message(STATUS "hearth: clang++ not found, parser_fuzz_smoke test skipped")
endif()
