# hearth_engine: model config, safetensors weights, the Qwen3.5/3.6 forward pass and the CPU backend.
add_library(hearth_engine STATIC
  ${CMAKE_CURRENT_LIST_DIR}/config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/safetensors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tensor_names.cpp
  ${CMAKE_CURRENT_LIST_DIR}/weight_formats.cpp
  ${CMAKE_CURRENT_LIST_DIR}/weight_loader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dummy_weights.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kv_pages.cpp
  ${CMAKE_CURRENT_LIST_DIR}/qwen35_state.cpp
  ${CMAKE_CURRENT_LIST_DIR}/qwen35_model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fused_ops.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/demo_model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/thread_pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/dot_kernels.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/cpu_ops.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/cpu_page_memory.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/matmul.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/attention.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/delta_rule.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/moe.cpp)
target_link_libraries(hearth_engine PUBLIC hearth_engine_core hearth_util nlohmann_json::nlohmann_json Threads::Threads)
# The kernels are the hot path of every CPU decode step: optimise them even in debug-info builds.
target_compile_options(hearth_engine PRIVATE -O3)
# The CUDA backend (engine/cuda.cmake), when built: load_model picks it (HEARTH_HAVE_CUDA comes with it).
if(HEARTH_HAVE_CUDA)
  target_link_libraries(hearth_engine PUBLIC hearth_engine_cuda)
endif()
