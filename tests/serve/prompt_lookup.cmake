# The prompt-lookup drafter and its teacher-forced replay (token ids only).
hearth_test(prompt_lookup_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/prompt_lookup_test.cpp LIBS hearth_lookup)
# `hearth bench-lookup` on the committed corpus (testdata/lookup): figures recomputed by the script.
if(TARGET hearth)
  add_test(NAME serve_bench_lookup_measures_the_agent_corpus_and_an_exactly_known_copy_turn
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/bench_lookup.sh $<TARGET_FILE:hearth> ${HEARTH_TEST_TOKENIZER_DIR} ${HEARTH_TESTDATA_DIR})
endif()
