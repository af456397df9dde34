# Renderer tests: golden files (real Jinja templates), mapping rules, Python text forms, format behaviour,
# and the append-only property over a recorded Claude Code session.
hearth_test(render_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/render_golden_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/render_mapping_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/render_format_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/render_python_json_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/render_session_test.cpp
  LIBS hearth_render)
