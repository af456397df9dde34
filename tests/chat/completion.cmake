# Completion glue tests: real tokenizer, renderer and parser around the scripted model.
hearth_test(completion_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/completion_test.cpp
  LIBS hearth_completion)
# A model padded past the tokenizer's vocabulary (the scripted model widened, and a tiny CPU-engine model
# with a smaller tokenizer): replies never contain an id the tokenizer lacks.
hearth_test(padded_vocabulary_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/padded_vocabulary_test.cpp
  LIBS hearth_completion hearth_engine)
