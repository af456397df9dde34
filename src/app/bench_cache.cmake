# `hearth bench-cache` (cmd_bench_cache.cpp): the prompt-cache replay on a real engine model.
target_link_libraries(hearth PRIVATE hearth_cache_replay hearth_engine)
