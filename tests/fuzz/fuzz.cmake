# libFuzzer targets (libFuzzer needs clang; the project compiles with GCC). ctest runs a short, bounded
# session of each so CI exercises them; tests/fuzz/build_and_run.sh builds a fuzzer and is also the way
# to run it for longer (see its header and docs/RELIABILITY.md for the long runs' figures).
find_program(HEARTH_CLANGXX NAMES clang++ clang++-16 clang++-15 clang++-14)
if(HEARTH_CLANGXX)
  # target -> runs of the smoke session (a few seconds each once built)
  set(hearth_fuzz_smoke_runs parser=20000 request=3000 encoder=20000 tokenizer=2000 loaders=3000 snapshot=3000)
  foreach(entry ${hearth_fuzz_smoke_runs})
    string(REPLACE "=" ";" pair ${entry})
    list(GET pair 0 target)
    list(GET pair 1 runs)
    add_test(NAME ${target}_fuzz_smoke
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/build_and_run.sh ${target} ${CMAKE_CURRENT_BINARY_DIR}/${target} -runs=${runs})
    set_tests_properties(${target}_fuzz_smoke PROPERTIES
      ENVIRONMENT "CLANGXX=${HEARTH_CLANGXX};HEARTH_FUZZ_TOKENIZER=${HEARTH_TEST_TOKENIZER_DIR}"
      TIMEOUT 900  # includes compiling the fuzzer with sanitizers on a first run
      LABELS fuzz)
  endforeach()
else()
  message(STATUS "hearth: clang++ not found, the *_fuzz_smoke tests are skipped")
endif()
