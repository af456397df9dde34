# Output parser tests: behaviour on whole generations, streaming (what each push emits), typing helpers.
hearth_test(output_parser_test
  SOURCES output_parser_test.cpp output_parser_streaming_test.cpp output_parser_typing_test.cpp
  LIBS hearth_parser)
