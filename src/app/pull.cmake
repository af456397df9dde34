# `hearth pull` (cmd_pull.cpp) downloads into the hub cache; progress_display.cpp renders progress on
# stderr for it and for model loading.
target_sources(hearth PRIVATE ${CMAKE_CURRENT_LIST_DIR}/progress_display.cpp ${CMAKE_CURRENT_LIST_DIR}/load_progress_view.cpp)
target_link_libraries(hearth PRIVATE hearth_hub)
