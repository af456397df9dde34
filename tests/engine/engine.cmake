# Engine tests (CPU only): reference logits of tiny models, ops, loader, state.
hearth_test(engine_reference_logits_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/reference_logits_test.cpp LIBS hearth_engine)
