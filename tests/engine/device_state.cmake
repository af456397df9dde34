# State snapshots in a device backend's memory (qwen35_state.h), checked on the CPU through a fake
# device backend; and the prompt cache's device -> host demotion with such snapshots.
hearth_test(engine_device_state_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/device_state_test.cpp LIBS hearth_engine)
hearth_test(engine_device_state_cache_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/device_state_cache_test.cpp
  LIBS hearth_engine hearth_cache)
# The same on the real CUDA backend (label "gpu": needs a GPU, skips without one).
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_cuda_state_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_state_test.cpp
              LIBS hearth_engine_cuda hearth_engine hearth_cache LABELS gpu)
  # It runs on the GPU machine, which has no Debian packages: no shared C++ runtime either.
  target_link_options(engine_cuda_state_test PRIVATE -static-libstdc++ -static-libgcc)
endif()
# Sequence slots (slots_test.cpp) on the real CUDA backend.
if(HEARTH_HAVE_CUDA)
  hearth_test(engine_cuda_slots_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/slots_test.cpp
              LIBS hearth_engine_cuda hearth_engine LABELS gpu)
  target_compile_definitions(engine_cuda_slots_test PRIVATE HEARTH_SLOTS_ON_CUDA=1)
  target_link_options(engine_cuda_slots_test PRIVATE -static-libstdc++ -static-libgcc)
endif()
