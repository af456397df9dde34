#pragma once
// Order-preserving map of a float (not NaN) to an unsigned key, and back: a > b ⇔ key(a) > key(b), and
// key(-0) < key(+0) (callers fold -0 into +0 first when the two must tie). The MoE router takes each
// top-k choice with one warp-wide integer max over keys (__reduce_max_sync, a single instruction on
// sm_80+) where a float max needs five dependent shuffles. Plain C++ for both sides, so a CPU test
// pins the ordering down (tests/engine/moe_fused_layout_test.cpp).
#include <cstdint>
#include <cstring>

#include "engine/cuda/common/host_device.h"

namespace hearth::engine::cuda {

HEARTH_HOST_DEVICE_INLINE uint32_t route_key(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

HEARTH_HOST_DEVICE_INLINE float route_key_value(uint32_t k) {
  const uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace hearth::engine::cuda
