#pragma once
// Facts about the GPU for benchmarks: its name, memory in use, and the copy bandwidth measured on the
// spot (the ceiling decode speed is compared against; datasheet numbers are not what a card delivers).
#include <cstddef>
#include <string>

namespace hearth::engine::cuda {

std::string device_name();
size_t device_memory_total();
size_t device_memory_used();  // by every process: total − free
// Device-to-device copy of `bytes`, bytes read + written per second (GB/s = 1e9 bytes/s), median of
// several timed runs after a warm-up.
double measure_copy_bandwidth_gbs(size_t bytes = size_t{1} << 30);

}  // namespace hearth::engine::cuda
