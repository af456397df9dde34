# Tokenizer tests: unit tests of each piece, parity with the reference on the committed corpus, and a
# check that the committed golden ids still equal what the reference (node) computes.
hearth_test(tokenizer_parity_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tokenizer_parity_test.cpp
  LIBS hearth_tokenizer nlohmann_json::nlohmann_json)
