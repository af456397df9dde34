# hearth_engine_core: the model-independent engine — the decode loop (generator), the sampler, and the
# scripted model that stands behind the model seam in tests and demos, and the demo model's reply end.
add_library(hearth_engine_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/generator.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sampler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/speculative.cpp
  ${CMAKE_CURRENT_LIST_DIR}/scripted_model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/demo_reply_end.cpp
)
target_link_libraries(hearth_engine_core PUBLIC hearth_util)
