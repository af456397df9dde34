# `hearth render` (cmd_render.cpp): the server's request parser, the chat renderers, and the tokenizer
# for printing token ids.
target_link_libraries(hearth PRIVATE hearth_render hearth_tokenizer hearth_api)
