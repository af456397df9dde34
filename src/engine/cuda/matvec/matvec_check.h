#pragma once
// The weight check every matrix-vector launcher runs on the host before it launches: the kernels index
// a row's scales as column / group_size over groups() = cols / group_size entries, so a quantised matrix
// whose columns are not a multiple of its group would read the wrong (or no) scale for its last columns
// and return a wrong product without any error. The loader refuses such matrices; this catches a caller
// that builds one by hand. Plain C++ (tests/engine/cuda_matvec_layout_test.cpp runs it on the CPU).
#include <string>

#include "engine/weight_formats.h"
#include "util/error.h"

namespace hearth::engine::cuda {

inline void check_matvec_weight(const WeightMatrix& w, const char* launcher) {
  if (!w.quantized()) return;
  if (w.group_size <= 0 || w.cols % w.group_size != 0)
    throw Error(std::string(launcher) + ": " + w.describe() + " has " + std::to_string(w.cols) +
                    " columns, not a multiple of its quantization group (" + std::to_string(w.group_size) + ")",
                ErrorKind::unsupported);
}

}  // namespace hearth::engine::cuda
