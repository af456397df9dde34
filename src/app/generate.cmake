# `hearth generate` (cmd_generate.cpp): the model engine, the decode loop, the tokenizer and the
# prompt-lookup drafter (--speculative lookup).
target_link_libraries(hearth PRIVATE hearth_engine hearth_engine_core hearth_lookup hearth_tokenizer hearth_hub)
