# API layer unit tests: parsing/validation, encoding and composition of events, stop sequences,
# signatures, auth, model names, the queue, the routes (over a fake backend) and the HTTP boundary.
hearth_test(api_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/sha256_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/thinking_signature_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/stop_sequences_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/request_parser_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/message_composer_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/auth_and_names_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/request_queue_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/api_routes_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cors_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/openai_chat_parser_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/openai_chat_routes_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/openai_responses_test.cpp
  LIBS hearth_api)
hearth_test(api_http_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_server_test.cpp
  LIBS hearth_api)
