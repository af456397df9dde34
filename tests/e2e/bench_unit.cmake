# Unit tests of the benchmark runner library (hearth_bench). They use the real tasks under bench/ and
# its TypeScript toolchain (scripts/install-deps.sh), a fake agent script instead of Claude Code, and a
# tiny Python HTTP server instead of hearth serve.
hearth_test(bench_runner_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench/transcript_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/bench/session_metrics_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/bench/report_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/bench/workspace_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/bench/subprocess_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/bench/artifact_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/bench/runner_test.cpp
  LIBS hearth_bench
  LABELS bench)
target_compile_definitions(bench_runner_test PRIVATE
  HEARTH_BENCH_DIR="${CMAKE_SOURCE_DIR}/bench"
  HEARTH_FAKE_AGENT="${CMAKE_CURRENT_LIST_DIR}/bench/fake-agent.sh")
