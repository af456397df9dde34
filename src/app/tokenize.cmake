# `hearth tokenize` (cmd_tokenize.cpp) needs the tokenizer library.
target_link_libraries(hearth PRIVATE hearth_tokenizer)
