# Concurrent agent sessions through the scheduler on the CPU engine (the bench-serve replay).
if(TARGET hearth_engine)
  hearth_test(serve_serving_replay_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/serving_replay_test.cpp
    LIBS hearth_serve hearth_engine)
endif()
