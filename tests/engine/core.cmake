# Engine core tests: sampler, decode loop and scripted model (no real weights needed).
hearth_test(engine_core_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/sampler_test.cpp ${CMAKE_CURRENT_LIST_DIR}/generator_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/demo_reply_end_test.cpp
  LIBS hearth_engine_core)
