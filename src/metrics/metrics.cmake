# Per-request records (JSONL log), Prometheus registry, metrics-log summaries (hearth stats).
add_library(hearth_metrics STATIC
  ${CMAKE_CURRENT_LIST_DIR}/request_record.cpp
  ${CMAKE_CURRENT_LIST_DIR}/metrics_log.cpp
  ${CMAKE_CURRENT_LIST_DIR}/prometheus.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server_metrics.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_stats.cpp
  ${CMAKE_CURRENT_LIST_DIR}/process_memory.cpp)
target_link_libraries(hearth_metrics PUBLIC hearth_util nlohmann_json::nlohmann_json)
