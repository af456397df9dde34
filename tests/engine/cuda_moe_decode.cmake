# The fused MoE decode block (launch_moe_decode_fused): its index mappings on the CPU, the kernels
# against the CPU composition on a GPU (label "gpu": skips without one), and a micro-benchmark of the
# 35B-A3B block fused and unfused.
hearth_test(engine_moe_fused_layout_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/moe_fused_layout_test.cpp LIBS hearth_engine)
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_cuda_moe_decode_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_moe_decode_test.cpp
              LIBS hearth_engine_cuda hearth_engine LABELS gpu)
  # It runs on the GPU machine, which has no Debian packages: no shared C++ runtime either.
  target_link_options(engine_cuda_moe_decode_test PRIVATE -static-libstdc++ -static-libgcc)
  add_executable(engine_cuda_moe_decode_bench ${CMAKE_CURRENT_LIST_DIR}/cuda_moe_decode_bench.cpp)
  target_link_libraries(engine_cuda_moe_decode_bench PRIVATE hearth_engine_cuda hearth_engine benchmark::benchmark)
  target_link_options(engine_cuda_moe_decode_bench PRIVATE -static-libstdc++ -static-libgcc)
endif()
