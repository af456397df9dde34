# The chunked Gated DeltaNet kernels (engine/cuda/delta/delta_chunked.cu): GPU test against the CPU reference
# (label "gpu") and a GPU timing benchmark, chunked vs token-by-token (run by tools/device/gpu_suite.sh).
# Their index mappings are plain host code: tested everywhere, with or without nvcc.
hearth_test(engine_cuda_delta_layout_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_delta_layout_test.cpp
            LIBS hearth_engine)
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_cuda_delta_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_delta_test.cpp
              LIBS hearth_engine_cuda hearth_engine LABELS gpu)
  add_executable(engine_cuda_delta_bench ${CMAKE_CURRENT_LIST_DIR}/cuda_delta_bench.cpp)
  target_link_libraries(engine_cuda_delta_bench PRIVATE hearth_engine_cuda hearth_engine benchmark::benchmark)
  # The GPU machine has no Debian packages: no shared C++ runtime (libbenchmark travels in .devbuild/lib).
  foreach(t engine_cuda_delta_test engine_cuda_delta_bench)
    target_link_options(${t} PRIVATE -static-libstdc++ -static-libgcc)
  endforeach()
endif()
