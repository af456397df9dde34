# Completion glue tests: real tokenizer, renderer and parser around the scripted model.
hearth_test(completion_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/completion_test.cpp
  LIBS hearth_completion)
