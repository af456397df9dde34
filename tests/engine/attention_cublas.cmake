# The fast prefill attention's block plan (engine/cuda/attention/attention_cublas_plan.h), checked on the CPU (no GPU
# needed; the header's constexpr plan is what the launch uses).
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_attention_cublas_plan_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/attention_cublas_plan_test.cpp
              LIBS hearth_engine_cuda hearth_engine)
endif()
