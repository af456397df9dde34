#!/usr/bin/env bash
# On the GPU machine: Nsight Compute sections (speed of light, warp stalls, occupancy, scheduler) of one
# launch of a decode matrix-vector kernel inside engine_cuda_matvec_bench (staged by stage_perf.sh),
# at the card's own clocks (--clock-control none). Reports to $OUT/ncu-<label>.txt.
#   tools/device/perf_ncu.sh LABEL KERNEL_REGEX BENCH_FILTER
set -uo pipefail
OUT=${OUT:-/tmp/hearth-perf-out}
mkdir -p "$OUT"
D="$(pwd)/.devbuild-perf"
[ -d "$D/bin" ] || tar -C "$D" -xJf "$D/stage.tar.xz"
export LD_LIBRARY_PATH="$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
label=$1 kernel=$2 filter=$3
timeout 240 ncu --clock-control none --kernel-name "regex:$kernel" --launch-skip 1 --launch-count 1 \
  --section SpeedOfLight --section WarpStateStats --section Occupancy --section SchedulerStats --section LaunchStats \
  "$D/bin/engine_cuda_matvec_bench" --benchmark_min_time=0.01 --benchmark_filter="$filter" > "$OUT/ncu-$label.txt" 2>&1
echo "ncu $label rc=$?"
grep -E "SM Frequency|DRAM Throughput|Memory Throughput|Duration|Achieved Occupancy|Registers Per|Issued Warp|No Eligible|Active Warps Per|Eligible Warps|Stall|Grid Size|Block Limit" "$OUT/ncu-$label.txt" | head -30
