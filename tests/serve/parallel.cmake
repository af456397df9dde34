# Several requests at once through the serve layer (scripted model with several slots) and the API's
# admission (529 beyond running + waiting).
hearth_test(serve_parallel_completion_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/parallel_completion_test.cpp
  LIBS hearth_api hearth_serve hearth_scripted_responder)
# Batched decoding on the real CPU engine with the tiny test models.
if(TARGET hearth_engine)
  hearth_test(serve_batched_tiny_model_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/batched_tiny_model_test.cpp
    LIBS hearth_serve hearth_engine)
endif()
