#!/usr/bin/env bash
# GPU time of every kernel of one 35B-A3B decode step, measured by Nsight Compute (each kernel timed alone,
# so launch gaps are excluded): the kernels between the 2nd and 3rd embedding lookups of
# `hearth bench-engine` (its warm-up: a 64-token prefill, then an eager decode step). Writes
# $OUT/kernel_times.csv and prints per-kernel totals.
set -uo pipefail
OUT=${OUT:-/tmp/hearth-gpu-out}
mkdir -p "$OUT"
ROOT=$(pwd)
[ -d "$ROOT/.devbuild/bin" ] || tar -C "$ROOT/.devbuild" -xJf "$ROOT/.devbuild/stage.tar.xz"
export LD_LIBRARY_PATH="$ROOT/.devbuild/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
timeout 240 ncu --metrics gpu__time_duration.sum --csv --print-units base \
  --kernel-name regex:'kernel_(embed|matvec|moe|rms|add|attention|route|delta|conv|gated|swiglu|rope|copy|split|sigmoid)' \
  --launch-count 1800 \
  "$ROOT/.devbuild/bin/hearth" bench-engine --config bench/shapes/qwen3.6-35b-a3b-4bit.config.json \
  --load-format dummy --device cuda --prompts 64 --contexts 0 --decode-steps 1 > "$OUT/kernel_times.csv" 2> "$OUT/ncu.err"
echo "ncu rc=$?"
tail -3 "$OUT/ncu.err"
python3 - "$OUT/kernel_times.csv" <<'PY'
import csv, sys, collections
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
head = rows[0]; rows = rows[1:]
name_i, val_i, grid_i = head.index("Kernel Name"), head.index("Metric Value"), head.index("Grid Size")
embeds = [i for i, r in enumerate(rows) if "kernel_embed" in r[name_i]]
if len(embeds) < 2:
    sys.exit("fewer than two embeddings profiled: %d rows" % len(rows))
end = embeds[2] if len(embeds) > 2 else len(rows)
step = rows[embeds[1]:end]
tot = collections.defaultdict(lambda: [0, 0.0])
for r in step:
    key = r[name_i].split("(")[0].replace("hearth::engine::cuda::", "")[:60] + " grid " + r[grid_i]
    tot[key][0] += 1; tot[key][1] += float(r[val_i].replace(',', '')) / 1e3
total = sum(v[1] for v in tot.values())
print("decode step: %d kernels, %.1f us of kernel time (sum of isolated kernel durations)" % (len(step), total))
for k, (n, us) in sorted(tot.items(), key=lambda kv: -kv[1][1])[:40]:
    print("%9.1f us %5.1f%% %4d x %6.2f us  %s" % (us, 100 * us / total, n, us / n, k))
PY
