# Engine tests (CPU only): reference logits of tiny models, ops, loader, state.
hearth_test(engine_reference_logits_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/reference_logits_test.cpp LIBS hearth_engine)
hearth_test(engine_state_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/state_test.cpp LIBS hearth_engine)
hearth_test(engine_ops_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/ops_test.cpp LIBS hearth_engine)
hearth_test(engine_loader_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/loader_test.cpp LIBS hearth_engine)
# Decode speed (Google Benchmark; not a test): tiny models, dummy 35B-A3B / 27B shapes, matvec per format.
add_executable(engine_decode_bench ${CMAKE_CURRENT_LIST_DIR}/decode_bench.cpp)
target_link_libraries(engine_decode_bench PRIVATE hearth_engine benchmark::benchmark)
target_compile_definitions(engine_decode_bench PRIVATE HEARTH_TESTDATA_DIR="${HEARTH_TESTDATA_DIR}")
hearth_test(engine_op_conformance_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/op_conformance_test.cpp LIBS hearth_engine)
hearth_test(engine_kv_pages_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/kv_pages_test.cpp LIBS hearth_engine)
hearth_test(engine_slots_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/slots_test.cpp LIBS hearth_engine)
# Speculative decoding: logits rows, rollback, greedy identity and the sampling distribution (CPU).
hearth_test(engine_speculative_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/speculative_test.cpp LIBS hearth_engine hearth_engine_core)
