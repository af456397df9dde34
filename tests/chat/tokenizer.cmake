# Tokenizer tests: unit tests of each piece, parity with the reference on the committed corpus, and a
# check that the committed golden ids still equal what the reference (node) computes.
hearth_test(tokenizer_parity_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tokenizer_parity_test.cpp
  LIBS hearth_tokenizer nlohmann_json::nlohmann_json)
hearth_test(tokenizer_pretokenizer_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tokenizer_pretokenizer_test.cpp
  LIBS hearth_tokenizer nlohmann_json::nlohmann_json)
hearth_test(tokenizer_bpe_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tokenizer_bpe_test.cpp
  LIBS hearth_tokenizer nlohmann_json::nlohmann_json)
hearth_test(tokenizer_added_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tokenizer_added_test.cpp
  LIBS hearth_tokenizer nlohmann_json::nlohmann_json)
hearth_test(tokenizer_normalizer_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tokenizer_normalizer_test.cpp
  LIBS hearth_tokenizer ${UTF8PROC_STATIC})
hearth_test(tokenizer_decode_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tokenizer_decode_test.cpp
  LIBS hearth_tokenizer)
hearth_test(tokenizer_load_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tokenizer_load_test.cpp
  LIBS hearth_tokenizer nlohmann_json::nlohmann_json)
# The committed golden ids must equal what the reference computes now (and the corpus what
# tools/tokenizer/corpus.mjs generates), so parity.jsonl cannot drift from the reference. Needs node and
# tests/e2e/node_modules (scripts/install-deps.sh); a missing node fails the test rather than skipping it.
add_test(NAME tokenizer_golden_matches_reference
  COMMAND node tools/tokenizer/make_parity.mjs --check testdata/tokenizer/parity.jsonl
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
# `hearth tokenize` prints the ids on one line.
add_test(NAME hearth_tokenize_prints_ids
  COMMAND hearth tokenize --tokenizer ${HEARTH_TEST_TOKENIZER_DIR} --text "Hello world<|im_end|>")
set_tests_properties(hearth_tokenize_prints_ids PROPERTIES PASS_REGULAR_EXPRESSION "^9707 1879 151645\n$")
