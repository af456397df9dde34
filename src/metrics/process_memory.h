#pragma once
// Host memory of this process, for the per-request record and GET /metrics.
#include <cstdint>

namespace hearth::metrics {

// Peak resident set size of the process so far (Linux VmHWM), in bytes; 0 where unavailable.
int64_t process_peak_rss_bytes();
// Resident set size now (Linux VmRSS), in bytes; 0 where unavailable.
int64_t process_rss_bytes();

}  // namespace hearth::metrics
