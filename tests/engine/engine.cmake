# Engine tests (CPU only): reference logits of tiny models, ops, loader, state.
hearth_test(engine_reference_logits_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/reference_logits_test.cpp LIBS hearth_engine)
hearth_test(engine_state_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/state_test.cpp LIBS hearth_engine)
hearth_test(engine_ops_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/ops_test.cpp LIBS hearth_engine)
hearth_test(engine_loader_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/loader_test.cpp LIBS hearth_engine)
