# `hearth serve` (cmd_serve.cpp): the API server, the serve layer (orchestration), and — once it exists — the real
# model engine (hearth_engine, with engine/loader.h's load_model); without it only --scripted works.
target_link_libraries(hearth PRIVATE hearth_api hearth_serve hearth_scripted_responder hearth_hub)
# The test tokenizer of the source tree (scripts/install-deps.sh) is the default for --scripted and the
# demo model, so that `scripts/serve.sh` works with no arguments.
set_property(SOURCE ${CMAKE_CURRENT_LIST_DIR}/cmd_serve.cpp APPEND PROPERTY COMPILE_DEFINITIONS
  "HEARTH_SOURCE_TOKENIZER_DIR=\"${CMAKE_SOURCE_DIR}/.deps/qwen3-tokenizer\"")
if(TARGET hearth_engine)
  target_link_libraries(hearth PRIVATE hearth_engine)
  set_property(SOURCE ${CMAKE_CURRENT_LIST_DIR}/cmd_serve.cpp APPEND PROPERTY COMPILE_DEFINITIONS HEARTH_HAVE_ENGINE=1)
endif()
