# hearth_serve: orchestration — a request → rendered prompt tokens → generation on the scheduler
# (continuous batching over the model's sequence slots) → parsed content events and usage (implements
# api::Backend).
add_library(hearth_serve STATIC
  ${CMAKE_CURRENT_LIST_DIR}/completion.cpp
  ${CMAKE_CURRENT_LIST_DIR}/request_run.cpp
  ${CMAKE_CURRENT_LIST_DIR}/scheduler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/serving_replay.cpp
)
target_link_libraries(hearth_serve PUBLIC hearth_render hearth_tokenizer hearth_parser hearth_engine_core hearth_cache
  hearth_prompt_layout hearth_util nlohmann_json::nlohmann_json)
