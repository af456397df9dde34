#include "engine/cuda/cublas_library.h"

#include <dlfcn.h>

#include <string>

#include "util/error.h"

namespace hearth::engine::cuda {
namespace {

// The soname of the cuBLAS major version these headers describe, found through the usual search
// (LD_LIBRARY_PATH, the loader cache) or at the CUDA install's usual places.
std::string soname() { return "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR); }

void* open_library(std::string& tried) {
  const std::string name = soname();
  for (const std::string& path : {name, "/usr/local/cuda/lib64/" + name, "/usr/local/cuda/lib/" + name,
                                  "/usr/local/cuda/targets/x86_64-linux/lib/" + name}) {
    if (void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
    tried += (tried.empty() ? "" : ", ") + path;
  }
  return nullptr;
}

template <class F>
void bind(void* handle, F& fn, const char* symbol) {
  fn = reinterpret_cast<F>(dlsym(handle, symbol));
  if (!fn)
    throw Error(std::string("cuBLAS has no function ") + symbol + "; --precision exact runs without cuBLAS",
                ErrorKind::unsupported);
}

CublasLibrary load() {
  std::string tried;
  void* handle = open_library(tried);
  if (!handle)
    throw Error("cuBLAS (" + soname() + ") was not found (tried " + tried +
                    "); the fast prefill products need it — install the CUDA toolkit's cuBLAS, set LD_LIBRARY_PATH, "
                    "or run with --precision exact",
                ErrorKind::unsupported);
  CublasLibrary lib;
  bind(handle, lib.create, "cublasCreate_v2");
  bind(handle, lib.destroy, "cublasDestroy_v2");
  bind(handle, lib.set_stream, "cublasSetStream_v2");
  bind(handle, lib.set_workspace, "cublasSetWorkspace_v2");
  bind(handle, lib.gemm_ex, "cublasGemmEx");
  bind(handle, lib.gemm_strided_batched_ex, "cublasGemmStridedBatchedEx");
  bind(handle, lib.status_string, "cublasGetStatusString");
  return lib;  // the library stays loaded for the process's lifetime
}

}  // namespace

const CublasLibrary& cublas_library() {
  static const CublasLibrary lib = load();  // a failed load throws, and the next call tries again
  return lib;
}

}  // namespace hearth::engine::cuda
