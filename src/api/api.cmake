# hearth_api: the Anthropic Messages API surface and the OpenAI-compatible one (openai_*: Chat
# Completions, Responses) — request parsing/validation, error JSON, response and SSE encoding, thinking
# signatures, stop sequences, auth, the request queue, the HTTP boundary and the routes. Knows no token
# ids and no chat/ code: generated content arrives as util/content_events.h events through the
# api/backend.h seam (implemented by serve/).
add_library(hearth_api STATIC
  ${CMAKE_CURRENT_LIST_DIR}/errors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_errors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sha256.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ids.cpp
  ${CMAKE_CURRENT_LIST_DIR}/thinking_signature.cpp
  ${CMAKE_CURRENT_LIST_DIR}/json_fields.cpp
  ${CMAKE_CURRENT_LIST_DIR}/request_parser.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stop_sequences.cpp
  ${CMAKE_CURRENT_LIST_DIR}/response_encoding.cpp
  ${CMAKE_CURRENT_LIST_DIR}/message_composer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/request_queue.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/auth.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_names.cpp
  ${CMAKE_CURRENT_LIST_DIR}/api_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_request_fields.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_chat_parser.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_chat_encoding.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_responses_parser.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_responses_encoding.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_routes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/request_metrics.cpp
)
target_include_directories(hearth_api PRIVATE ${HTTPLIB_INCLUDE})
target_link_libraries(hearth_api PUBLIC hearth_util hearth_metrics nlohmann_json::nlohmann_json PRIVATE ${HTTPLIB_LIB})
# Debian built its libcpp-httplib with these (pkg-config cpp-httplib --cflags): the header's structs
# must be laid out the same way in our code as in the shared library.
set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/http_server.cpp PROPERTIES COMPILE_DEFINITIONS
  "CPPHTTPLIB_OPENSSL_SUPPORT;CPPHTTPLIB_ZLIB_SUPPORT;CPPHTTPLIB_BROTLI_SUPPORT")
