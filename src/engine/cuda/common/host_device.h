#pragma once
// The one host/device function marker of engine/cuda/. Index mappings and launch plans are written once
// and compiled both by nvcc (for the kernels) and by the host compiler (for the launchers and the plain
// C++ layout tests, tests/engine/*layout_test.cpp), where the markers are empty.
//   HEARTH_HOST_DEVICE         a function both sides call
//   HEARTH_HOST_DEVICE_INLINE  the same, forced inline in device code (hot index arithmetic)
#if defined(__CUDACC__)
#define HEARTH_HOST_DEVICE __host__ __device__
#define HEARTH_HOST_DEVICE_INLINE __host__ __device__ __forceinline__
#else
#define HEARTH_HOST_DEVICE
#define HEARTH_HOST_DEVICE_INLINE inline
#endif
