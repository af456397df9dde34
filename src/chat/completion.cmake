# hearth_completion: request → render → tokens → generate → parsed events (implements api::Backend),
# and the scripted responder that drives the scripted model from a JSON script in tests and demos.
add_library(hearth_completion STATIC
  ${CMAKE_CURRENT_LIST_DIR}/completion.cpp
  ${CMAKE_CURRENT_LIST_DIR}/scripted_responder.cpp
)
target_link_libraries(hearth_completion PUBLIC hearth_render hearth_tokenizer hearth_parser hearth_engine_core hearth_cache hearth_prompt_layout hearth_util
  nlohmann_json::nlohmann_json)
