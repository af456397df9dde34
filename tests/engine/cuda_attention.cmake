# Attention kernels: the decode work plan on the CPU (always), the kernels against the CPU reference on
# the GPU (label gpu), and a decode-attention timing (Google Benchmark, not a test).
hearth_test(engine_attention_plan_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/attention_plan_test.cpp LIBS hearth_engine)
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_cuda_attention_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_attention_test.cpp
              LIBS hearth_engine_cuda hearth_engine LABELS gpu)
  add_executable(engine_cuda_attention_bench ${CMAKE_CURRENT_LIST_DIR}/cuda_attention_bench.cpp)
  target_link_libraries(engine_cuda_attention_bench PRIVATE hearth_engine_cuda hearth_engine benchmark::benchmark)
  # They run on the GPU machine, which has no Debian packages: no shared C++ runtime either
  # (libbenchmark is staged beside them by tools/device/stage_build.sh).
  foreach(t engine_cuda_attention_test engine_cuda_attention_bench)
    target_link_options(${t} PRIVATE -static-libstdc++ -static-libgcc)
  endforeach()
endif()
