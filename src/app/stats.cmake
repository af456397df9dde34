# `hearth stats` (cmd_stats.cpp) reads metrics logs.
target_link_libraries(hearth PRIVATE hearth_metrics)
