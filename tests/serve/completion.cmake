# The serve layer's completion: real tokenizer, renderer and parser around the scripted model.
hearth_test(serve_completion_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/completion_test.cpp
  LIBS hearth_serve hearth_scripted_responder)
# A model padded past the tokenizer's vocabulary (the scripted model widened, and a tiny CPU-engine model
# with a smaller tokenizer): replies never contain an id the tokenizer lacks.
hearth_test(padded_vocabulary_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/padded_vocabulary_test.cpp
  LIBS hearth_serve hearth_scripted_responder hearth_engine)
# A request's seed fixes its samples (a tiny random-weight model at temperature 1).
hearth_test(sampling_seed_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/sampling_seed_test.cpp
  LIBS hearth_serve hearth_engine)
