#pragma once
// cuBLAS, loaded at run time (dlopen) the first time a Precision::fast backend is created. Linking it
// would make every hearth binary need libcublas/libcublasLt (~600 MB, from the CUDA install) just to
// start, even on the CPU or in exact mode; loaded on demand, a machine without them gets a clear error
// naming --precision exact instead.
#include <cublas_api.h>

namespace hearth::engine::cuda {

// The few entry points the fast GEMM uses (cuBLAS's C ABI; the _v2 names are what cublas_v2.h maps to).
struct CublasLibrary {
  cublasStatus_t (*create)(cublasHandle_t*) = nullptr;
  cublasStatus_t (*destroy)(cublasHandle_t) = nullptr;
  cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t) = nullptr;
  cublasStatus_t (*set_workspace)(cublasHandle_t, void*, size_t) = nullptr;
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
                            const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*,
                            cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
  // Batched products of equally strided matrices (the fast prefill attention: one call per KV head
  // group serves all of its query heads).
  cublasStatus_t (*gemm_strided_batched_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                            const void*, const void*, cudaDataType, int, long long, const void*,
                                            cudaDataType, int, long long, const void*, void*, cudaDataType, int,
                                            long long, int, cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
  const char* (*status_string)(cublasStatus_t) = nullptr;
};

// Loaded once (thread-safe); throws hearth::Error (unsupported) naming where it looked when the library
// or one of its functions is missing.
const CublasLibrary& cublas_library();

}  // namespace hearth::engine::cuda
