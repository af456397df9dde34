# The fast prefill GEMM's index arithmetic (CPU only; built with the CUDA backend's headers).
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_gemm_fast_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/gemm_fast_test.cpp
              LIBS hearth_engine_cuda hearth_engine)
endif()
