# The fused ops' default compositions and the model's fused forward pass (CPU reference).
hearth_test(engine_fused_ops_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/fused_ops_test.cpp LIBS hearth_engine)
