# `hearth bench-lookup` (cmd_bench_lookup.cpp): the server's request parser and renderer, the tokenizer,
# and the prompt-lookup drafter's replay.
target_link_libraries(hearth PRIVATE hearth_lookup hearth_render hearth_tokenizer hearth_api hearth_hub)
