# Loading progress: the read and placement stages report every tensor (a fake device for placement).
hearth_test(engine_load_progress_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/load_progress_test.cpp LIBS hearth_engine)
