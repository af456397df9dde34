hearth_test(cache_tree_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/checkpoint_tree_test.cpp LIBS hearth_cache)
hearth_test(cache_store_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/checkpoint_store_test.cpp LIBS hearth_cache)
hearth_test(cache_planner_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/checkpoint_planner_test.cpp LIBS hearth_cache)
hearth_test(cache_prompt_cache_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/prompt_cache_test.cpp LIBS hearth_cache)
hearth_test(cache_generator_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/generator_checkpoint_test.cpp
  LIBS hearth_cache hearth_engine_core)
