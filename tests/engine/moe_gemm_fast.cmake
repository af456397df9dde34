# The fast grouped MoE GEMM's index arithmetic (CPU only: a plain header of the CUDA backend).
hearth_test(engine_moe_gemm_fast_layout_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/moe_gemm_fast_layout_test.cpp
            LIBS hearth_engine)
