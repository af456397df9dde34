# The fast prefill GEMM's index arithmetic (CPU only; built with the CUDA backend's headers) and the
# --precision flag.
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_gemm_fast_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/gemm_fast_test.cpp
              LIBS hearth_engine_cuda hearth_engine)
endif()
# The --precision flag's parsing (every build).
hearth_test(engine_precision_flag_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/precision_flag_test.cpp LIBS hearth_engine)
