# `hearth bench-serve` (cmd_bench_serve.cpp): concurrent agent sessions through the serve layer's scheduler
# on a real engine model.
target_link_libraries(hearth PRIVATE hearth_serve hearth_engine)
