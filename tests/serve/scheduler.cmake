# The scheduler over the scripted model with several slots (token level, no chat code).
hearth_test(serve_scheduler_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/scheduler_test.cpp
  LIBS hearth_serve)
