hearth_test(cache_tree_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/checkpoint_tree_test.cpp LIBS hearth_cache)
hearth_test(cache_store_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/checkpoint_store_test.cpp LIBS hearth_cache)
hearth_test(cache_planner_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/checkpoint_planner_test.cpp LIBS hearth_cache)
hearth_test(cache_prompt_cache_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/prompt_cache_test.cpp LIBS hearth_cache)
hearth_test(cache_generator_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/generator_checkpoint_test.cpp
  LIBS hearth_cache hearth_engine_core)
# The end-of-generation rule against the real renderer and tokenizer.
hearth_test(cache_generation_end_rule_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/generation_end_rule_test.cpp
  LIBS hearth_prompt_layout hearth_render hearth_tokenizer)
