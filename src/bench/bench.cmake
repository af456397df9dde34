# hearth_bench: the agent benchmark runner (`hearth bench run` / `hearth bench report`). Tasks and their
# scripts live in bench/ at the repository root.
add_library(hearth_bench STATIC
  ${CMAKE_CURRENT_LIST_DIR}/subprocess.cpp
  ${CMAKE_CURRENT_LIST_DIR}/containment.cpp
  ${CMAKE_CURRENT_LIST_DIR}/task_catalog.cpp
  ${CMAKE_CURRENT_LIST_DIR}/workspace.cpp
  ${CMAKE_CURRENT_LIST_DIR}/evaluation.cpp
  ${CMAKE_CURRENT_LIST_DIR}/transcript.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_metrics.cpp
  ${CMAKE_CURRENT_LIST_DIR}/artifact.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_record.cpp
  ${CMAKE_CURRENT_LIST_DIR}/claude_agent.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runner.cpp
  ${CMAKE_CURRENT_LIST_DIR}/summary.cpp
  ${CMAKE_CURRENT_LIST_DIR}/report.cpp
)
target_link_libraries(hearth_bench PUBLIC hearth_util nlohmann_json::nlohmann_json)
