# `hearth bench-engine` (cmd_bench_engine.cpp): the engine (with the CUDA backend when it is built).
target_link_libraries(hearth PRIVATE hearth_engine)
