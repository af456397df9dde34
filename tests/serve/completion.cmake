# The serve layer's completion: real tokenizer, renderer and parser around the scripted model.
hearth_test(serve_completion_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/completion_test.cpp
  LIBS hearth_serve hearth_scripted_responder)
