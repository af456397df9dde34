# `hearth bench` end to end: the runner, the real Claude Code CLI (tests/e2e/node_modules) and
# `hearth serve --scripted`, with one known-good and one known-wrong edit (bench-scripted-e2e.sh).
add_test(NAME bench_e2e_claude_code_on_scripted_model_reports_one_pass_and_one_heldout_failure
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bench-scripted-e2e.sh $<TARGET_FILE:hearth>)
set_tests_properties(bench_e2e_claude_code_on_scripted_model_reports_one_pass_and_one_heldout_failure
                     PROPERTIES TIMEOUT 600 LABELS bench)
