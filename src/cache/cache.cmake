# The prompt cache: prefix tree of model-state checkpoints, budgets and eviction, persistence, planner.
add_library(hearth_cache STATIC
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint_tree.cpp
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint_planner.cpp
  ${CMAKE_CURRENT_LIST_DIR}/disk_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/prompt_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/byte_size.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_identity.cpp)
target_link_libraries(hearth_cache PUBLIC hearth_util)
