# hearth_engine_cuda: the CUDA backend (engine/cuda/). Built whenever nvcc is found (HEARTH_HAVE_CUDA),
# so CI compiles it without a GPU; tests that need a GPU carry the ctest label "gpu".
if(HEARTH_HAVE_CUDA)
  set(HEARTH_CUDA_DIR ${CMAKE_CURRENT_LIST_DIR}/cuda)
  # Every .cu/.cpp under engine/cuda/ and its family folders (common/, matvec/, gemm/, moe/, attention/,
  # delta/, elementwise/; engine/cuda/README.md), CONFIGURE_DEPENDS: a new kernel file needs no edit here.
  file(GLOB_RECURSE HEARTH_CUDA_SOURCES CONFIGURE_DEPENDS ${HEARTH_CUDA_DIR}/*.cu ${HEARTH_CUDA_DIR}/*.cpp)
  add_library(hearth_engine_cuda STATIC ${HEARTH_CUDA_SOURCES})
  # The shared headers need C++20 (std::bit_cast, std::span). CMake 3.25 does not know nvcc's C++20
  # flag (it knows up to 17), so it is named here.
  if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  set_target_properties(hearth_engine_cuda PROPERTIES CUDA_STANDARD 20 CUDA_STANDARD_REQUIRED ON
                                                      CUDA_EXTENSIONS OFF CUDA_SEPARABLE_COMPILATION OFF)
  option(HEARTH_CUDA_RESOURCE_REPORT "Print ptxas register/shared-memory usage per kernel" OFF)
  target_compile_options(hearth_engine_cuda PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo --expt-relaxed-constexpr -Xcompiler=-Wno-unused-parameter>
    $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${HEARTH_CUDA_RESOURCE_REPORT}>>:-Xptxas=-v>)
  # hearth_engine (weight formats, config) and this library refer to each other: CMake resolves the
  # cycle between the two static libraries on the link line. Code that picks the backend sees
  # HEARTH_HAVE_CUDA through this interface definition.
  # cuBLAS (the Precision::fast prefill GEMMs) is loaded at run time (cuda/cublas_library.cpp: dlopen),
  # so binaries start without it; only its headers are needed here.
  target_link_libraries(hearth_engine_cuda PUBLIC hearth_engine hearth_util CUDA::cudart_static ${CMAKE_DL_LIBS})
  target_compile_definitions(hearth_engine_cuda INTERFACE HEARTH_HAVE_CUDA=1)
endif()
