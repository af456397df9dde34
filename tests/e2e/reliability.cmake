# Reliability checks of `hearth serve` on the CPU demo model (issue 15), each a short bounded run of a
# script whose long form is recorded in docs/RELIABILITY.md:
#  - mutated copies of recorded Claude Code requests: RSS after warm-up stays within a bound
#    (tools/memory/mutated_requests.py);
#  - a mixed soak of concurrent clients with disconnects, slow readers and hostile requests
#    (tools/soak/soak.py);
#  - kill -9 while checkpoints are written to --cache-dir, restart, serve from what is on disk
#    (tests/e2e/reliability/crash_safety.py).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  set(hearth_reliability_common --hearth $<TARGET_FILE:hearth> --tokenizer ${HEARTH_TEST_TOKENIZER_DIR})
  add_test(NAME reliability_mutated_claude_code_requests_keep_resident_memory_bounded
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/memory/mutated_requests.py ${hearth_reliability_common}
                   --requests 60 --warmup 20 --max-growth-mib 24 -- --cache-host-bytes 16M --cache-device-bytes 0)
  add_test(NAME reliability_soak_of_mixed_clients_leaves_no_stuck_sequence_and_flat_memory
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/soak/soak.py ${hearth_reliability_common}
                   --duration 25 --clients 6)
  add_test(NAME reliability_kill9_during_checkpoint_writes_then_restart_serves_only_complete_snapshots
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/reliability/crash_safety.py ${hearth_reliability_common}
                   --rounds 3)
  set_tests_properties(
    reliability_mutated_claude_code_requests_keep_resident_memory_bounded
    reliability_soak_of_mixed_clients_leaves_no_stuck_sequence_and_flat_memory
    reliability_kill9_during_checkpoint_writes_then_restart_serves_only_complete_snapshots
    PROPERTIES TIMEOUT 300 LABELS reliability)
else()
  message(STATUS "hearth: python3 not found, the reliability_* tests are skipped")
endif()
