# CUDA backend tests (label "gpu": they need a GPU and skip without one). Each op against the CPU
# reference on random inputs; the whole model against the tiny models' reference logits.
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_cuda_matmul_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_matmul_test.cpp
              LIBS hearth_engine_cuda hearth_engine LABELS gpu)
  hearth_test(engine_cuda_ops_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_ops_test.cpp
              LIBS hearth_engine_cuda hearth_engine LABELS gpu)
  hearth_test(engine_cuda_model_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_model_test.cpp
              LIBS hearth_engine_cuda hearth_engine LABELS gpu)
  # The op conformance harness (op_conformance.h) with CudaOps against CpuOps: every op of ops.h.
  hearth_test(engine_cuda_conformance_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_conformance_test.cpp
              LIBS hearth_engine_cuda hearth_engine LABELS gpu)
  # They run on the GPU machine, which has no Debian packages: no shared C++ runtime either.
  foreach(t engine_cuda_matmul_test engine_cuda_ops_test engine_cuda_model_test engine_cuda_conformance_test)
    target_link_options(${t} PRIVATE -static-libstdc++ -static-libgcc)
  endforeach()
endif()
