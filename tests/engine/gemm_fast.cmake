# The fast prefill GEMM's index arithmetic (CPU only; built with the CUDA backend's headers) and the
# --precision flag.
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_gemm_fast_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/gemm_fast_test.cpp
              LIBS hearth_engine_cuda hearth_engine)
endif()
# The --precision flag's parsing (every build).
hearth_test(engine_precision_flag_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/precision_flag_test.cpp LIBS hearth_engine)
# Prefill GEMM benchmark, fast vs exact (GPU; run by tools/device/gpu_suite.sh gemm-bench).
if(HEARTH_HAVE_CUDA)
  add_executable(engine_cuda_gemm_bench ${CMAKE_CURRENT_LIST_DIR}/cuda_gemm_bench.cpp)
  target_link_libraries(engine_cuda_gemm_bench PRIVATE hearth_engine_cuda hearth_engine benchmark::benchmark)
  # The GPU machine has no Debian packages: no shared C++ runtime (libbenchmark travels in .devbuild/lib).
  target_link_options(engine_cuda_gemm_bench PRIVATE -static-libstdc++ -static-libgcc)
endif()
