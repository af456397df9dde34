# The tensor-core decode matrix-vector kernel (engine/cuda/matvec/matvec_tc.cu): its index mapping on the CPU
# (runs everywhere), the kernel and launch_matvec_jobs against a float64 reference on the GPU (label
# gpu), and a micro-benchmark of the old and new kernel per model shape.
hearth_test(engine_cuda_matvec_layout_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_matvec_layout_test.cpp
            LIBS hearth_engine)
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_cuda_matvec_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_matvec_test.cpp
              LIBS hearth_engine_cuda hearth_engine LABELS gpu)
  # Runs on the GPU machine, which has no Debian packages: no shared C++ runtime either.
  target_link_options(engine_cuda_matvec_test PRIVATE -static-libstdc++ -static-libgcc)
  add_executable(engine_cuda_matvec_bench ${CMAKE_CURRENT_LIST_DIR}/cuda_matvec_bench.cpp)
  target_link_libraries(engine_cuda_matvec_bench PRIVATE hearth_engine_cuda hearth_engine benchmark::benchmark)
  target_link_options(engine_cuda_matvec_bench PRIVATE -static-libstdc++ -static-libgcc)
endif()
