# hearth_prompt_layout: a rendered prompt's boundaries as the prompt cache's token positions and kinds.
add_library(hearth_prompt_layout STATIC ${CMAKE_CURRENT_LIST_DIR}/prompt_layout.cpp)
target_link_libraries(hearth_prompt_layout PUBLIC hearth_cache hearth_util)
