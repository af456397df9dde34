# The prompt-lookup drafter and its teacher-forced replay (token ids only).
hearth_test(prompt_lookup_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/prompt_lookup_test.cpp LIBS hearth_lookup)
