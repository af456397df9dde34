hearth_test(cache_tree_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/checkpoint_tree_test.cpp LIBS hearth_cache)
hearth_test(cache_store_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/checkpoint_store_test.cpp LIBS hearth_cache)
hearth_test(cache_planner_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/checkpoint_planner_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/byte_size_test.cpp LIBS hearth_cache)
hearth_test(cache_prompt_cache_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/prompt_cache_test.cpp LIBS hearth_cache)
hearth_test(cache_generator_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/generator_checkpoint_test.cpp
  LIBS hearth_cache hearth_engine_core)
# The end-of-generation rule against the real renderer and tokenizer.
hearth_test(cache_generation_end_rule_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/generation_end_rule_test.cpp
  LIBS hearth_prompt_layout hearth_render hearth_tokenizer)
# The replay on the CPU engine with the tiny test model (random weights).
if(TARGET hearth_engine)
  hearth_test(cache_agent_replay_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_replay_test.cpp
    LIBS hearth_cache_replay hearth_engine)
endif()
# `hearth bench-cache` end to end on the tiny model: 150 tokens for the first turn, then 50 per turn.
if(TARGET hearth_engine)
  add_test(NAME hearth_bench_cache_prefills_only_new_tokens_on_tiny_model
    COMMAND hearth bench-cache --model ${HEARTH_TESTDATA_DIR}/tiny/dense-hf-bf16 --dummy --turns 3
      --static-tokens 100 --new-tokens 50 --output-tokens 4 --threads 2)
  set_tests_properties(hearth_bench_cache_prefills_only_new_tokens_on_tiny_model PROPERTIES
    PASS_REGULAR_EXPRESSION "total: [0-9]+ prompt tokens, 250 prefilled")
endif()
# Acceptance tests (issue 6) through the API routes and the serve layer, on the CPU engine.
if(TARGET hearth_engine)
  hearth_test(cache_acceptance_engine_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/acceptance_engine_test.cpp
    LIBS hearth_api hearth_serve hearth_engine hearth_metrics)
endif()
# Acceptance test (issue 6): a recorded Claude Code session replayed on the scripted model.
hearth_test(cache_acceptance_session_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/acceptance_session_test.cpp
  LIBS hearth_api hearth_serve hearth_scripted_responder hearth_metrics)
