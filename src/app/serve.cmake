# `hearth serve` (cmd_serve.cpp): the API server, the completion glue, and — once it exists — the real
# model engine (hearth_engine, with engine/loader.h's load_model); without it only --scripted works.
target_link_libraries(hearth PRIVATE hearth_api hearth_completion)
if(TARGET hearth_engine)
  target_link_libraries(hearth PRIVATE hearth_engine)
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/cmd_serve.cpp PROPERTIES COMPILE_DEFINITIONS HEARTH_HAVE_ENGINE=1)
endif()
