# `hearth bench` (cmd_bench.cpp): the agent benchmark runner and report. The source tree's root is the
# fallback place to find bench/ (tasks, evaluate.sh, the TypeScript toolchain) when run elsewhere.
target_link_libraries(hearth PRIVATE hearth_bench)
set_property(SOURCE ${CMAKE_CURRENT_LIST_DIR}/cmd_bench.cpp APPEND PROPERTY
  COMPILE_DEFINITIONS "HEARTH_BENCH_SOURCE_ROOT=\"${CMAKE_SOURCE_DIR}\"")
