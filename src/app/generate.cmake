# `hearth generate` (cmd_generate.cpp): the model engine, the decode loop and the tokenizer.
target_link_libraries(hearth PRIVATE hearth_engine hearth_engine_core hearth_tokenizer hearth_hub)
