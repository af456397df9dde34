#include "metrics/process_memory.h"

#include <cstdio>
#include <cstring>

namespace hearth::metrics {

namespace {

// A "Name:  N kB" line of /proc/self/status, in bytes (0 when absent).
int64_t status_bytes(const char* name) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  const size_t length = std::strlen(name);
  char line[256];
  long long kib = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, name, length) == 0 && line[length] == ':') {
      std::sscanf(line + length + 1, "%lld", &kib);
      break;
    }
  }
  std::fclose(f);
  return static_cast<int64_t>(kib) * 1024;
}

}  // namespace

int64_t process_peak_rss_bytes() { return status_bytes("VmHWM"); }
int64_t process_rss_bytes() { return status_bytes("VmRSS"); }

}  // namespace hearth::metrics
