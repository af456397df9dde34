# The CUDA fused ops: their kernels' index mappings on the CPU (runs everywhere CUDA is compiled), and
# the ops against the CPU compositions (label "gpu": needs a GPU, skips without one).
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_cuda_fused_layout_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_fused_layout_test.cpp
              LIBS hearth_engine_cuda hearth_engine)
  hearth_test(engine_cuda_fused_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_fused_test.cpp
              LIBS hearth_engine_cuda hearth_engine LABELS gpu)
  target_link_options(engine_cuda_fused_test PRIVATE -static-libstdc++ -static-libgcc)
endif()
