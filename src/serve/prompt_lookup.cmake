# hearth_lookup: prompt-lookup drafting for speculative decoding (prompt_lookup.h) and the teacher-forced
# replay that measures it on recorded turns (lookup_replay.h, used by `hearth bench-lookup`). Token ids
# only: no engine, no chat format.
add_library(hearth_lookup STATIC
  ${CMAKE_CURRENT_LIST_DIR}/prompt_lookup.cpp
  ${CMAKE_CURRENT_LIST_DIR}/lookup_replay.cpp
)
target_link_libraries(hearth_lookup PUBLIC hearth_util)
