# hearth_render: native chat renderers (Anthropic request → the model's exact prompt text).
add_library(hearth_render STATIC
  ${CMAKE_CURRENT_LIST_DIR}/renderer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/render_qwen3_5.cpp
  ${CMAKE_CURRENT_LIST_DIR}/render_qwen3.cpp
  ${CMAKE_CURRENT_LIST_DIR}/render_text.cpp
  ${CMAKE_CURRENT_LIST_DIR}/anthropic_mapping.cpp
  ${CMAKE_CURRENT_LIST_DIR}/python_json.cpp)
target_link_libraries(hearth_render PUBLIC hearth_util nlohmann_json::nlohmann_json)
