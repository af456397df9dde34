# hearth_cache_replay: the synthetic agent-session replay behind `hearth bench-cache` (needs the decode loop).
add_library(hearth_cache_replay STATIC ${CMAKE_CURRENT_LIST_DIR}/agent_replay.cpp)
target_link_libraries(hearth_cache_replay PUBLIC hearth_cache hearth_engine_core)
