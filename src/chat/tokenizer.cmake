# Byte-level BPE tokenizer (Hugging Face tokenizer.json): PCRE2 for the pre-tokeniser regex, utf8proc for
# NFC, both linked statically (see the top-level CMakeLists.txt).
add_library(hearth_tokenizer STATIC
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_bpe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_spec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_added.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_normalizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pretokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bpe_model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bpe_byte_level.cpp)
target_link_libraries(hearth_tokenizer PUBLIC hearth_util PRIVATE ${PCRE2_8_STATIC} ${UTF8PROC_STATIC} nlohmann_json::nlohmann_json)
# The static archives are built without dllimport decorations; tell the headers so.
target_compile_definitions(hearth_tokenizer PRIVATE PCRE2_STATIC UTF8PROC_STATIC)
