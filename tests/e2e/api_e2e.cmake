# End-to-end tests of `hearth serve` with JavaScript clients from tests/e2e/node_modules (npm): the
# official Anthropic and OpenAI SDKs, the real Claude Code and Codex CLIs, and a corpus of hostile requests. Each starts its own
# server on a free loopback port with the scripted model (or the demo model) and the Qwen3 test tokenizer.
set(HEARTH_E2E_ENV "HEARTH_BIN=$<TARGET_FILE:hearth>;HEARTH_TOKENIZER_DIR=${HEARTH_TEST_TOKENIZER_DIR}")
foreach(e2e
    api_e2e_sdk_conformance:sdk-conformance
    api_e2e_claude_code_cli_write_then_bash_session:claude-code
    api_e2e_hostile_requests_get_right_errors_and_server_survives:hostile
    api_e2e_claude_code_wrong_key_fails_fast_and_server_max_tokens_is_reported:claude-code-limits
    api_e2e_claude_code_gets_an_answer_from_the_demo_model:claude-code-demo
    api_e2e_two_parallel_streams_with_scheduler:parallel-streams
    api_e2e_claude_code_two_parallel_subagents_stream_at_once:claude-code-subagents
    api_e2e_openai_sdk_chat_completions_and_responses:openai-sdk
    api_e2e_codex_cli_runs_a_shell_command_tool_loop:codex)
  string(REPLACE ":" ";" parts ${e2e})
  list(GET parts 0 name)
  list(GET parts 1 file)
  add_test(NAME ${name}
           COMMAND node --test --test-reporter=spec ${CMAKE_CURRENT_LIST_DIR}/api/${file}.test.mjs
           WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${HEARTH_E2E_ENV}" TIMEOUT 300 LABELS e2e)
endforeach()
