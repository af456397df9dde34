# Test-only JSON → MessagesRequest reader (render_request_json.h), shared by the renderer test binaries.
add_library(hearth_render_test_support STATIC ${CMAKE_CURRENT_LIST_DIR}/render_request_json.cpp)
target_link_libraries(hearth_render_test_support PUBLIC hearth_util nlohmann_json::nlohmann_json)

# Renderer tests: golden files (real Jinja templates), mapping rules, Python text forms, format behaviour,
# and the append-only property over a recorded Claude Code session.
hearth_test(render_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/render_golden_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/render_mapping_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/render_format_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/render_python_json_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/render_session_test.cpp
  LIBS hearth_render hearth_render_test_support)

# Token-level checks: a separate binary, so that the renderer tests above need only hearth_render.
hearth_test(render_tokens_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/render_tokens_test.cpp
  LIBS hearth_render hearth_render_test_support hearth_tokenizer)

# The server's request parser in front of the renderer: the same prompts as the goldens.
hearth_test(render_api_parser_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/render_api_parser_test.cpp
  LIBS hearth_render hearth_render_test_support hearth_api)

# `hearth render` on a request file: prompt text, boundaries, thinking taken from the request.
add_test(NAME hearth_render_cli_prints_prompt_and_boundaries
  COMMAND hearth render ${HEARTH_TESTDATA_DIR}/render/cli_request.json --no-tokens)
set_tests_properties(hearth_render_cli_prints_prompt_and_boundaries PROPERTIES PASS_REGULAR_EXPRESSION
  "You are a coding agent\\.<\\|im_end\\|>.*<parameter=timeout>\n1\\.5\n</parameter>.*<\\|im_start\\|>assistant\n<think>\n\n</think>\n\n\n--- [0-9]+ bytes; message boundaries at byte offsets: [0-9]+ [0-9]+ [0-9]+ [0-9]+\n$")
