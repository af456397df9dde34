"""Measures the two ceilings of METHOD.md on the GPU machine, for the shapes hearth's prefill runs:
bf16 matrix-product rate through PyTorch (cuBLAS) at the 35B-A3B / 27B projection shapes, and the
device-to-device copy bandwidth. Also lists where the CUDA libraries hearth links dynamically live.

    python3 tools/device/probe_ceilings.py > $OUT/ceilings.txt
"""
import glob
import os

import torch


def timed(fn, reps=20):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(reps):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def main():
    print("libraries:")
    for pattern in ["/usr/local/cuda/lib64/libcublas*", "/usr/local/cuda*/targets/*/lib/libcublas*",
                    "/usr/lib/x86_64-linux-gnu/libcublas*", "/opt/torch/.venv/lib/python3*/site-packages/nvidia/*/lib/libcublas*",
                    "/opt/torch/.venv/lib/python3*/site-packages/nvidia/cu13/lib/libcublas*"]:
        for path in sorted(glob.glob(pattern)):
            print("  ", path, os.path.getsize(path))
    print("LD_LIBRARY_PATH=", os.environ.get("LD_LIBRARY_PATH"))
    print(torch.cuda.get_device_name(), "SMs", torch.cuda.get_device_properties(0).multi_processor_count)

    n = 1 << 28  # 1 GiB of float32
    a = torch.randn(n, device="cuda")
    b = torch.empty_like(a)
    ms = timed(lambda: b.copy_(a))
    print(f"copy: {2 * a.numel() * 4 / ms / 1e9:.3f} TB/s (read + write)")
    del a, b

    print("bf16 GEMM (tokens x in) @ (in x out), float32 accumulate via cuBLAS:")
    shapes = {
        "35B qkv 8192x2048": (8192, 2048), "35B o 2048x4096": (2048, 4096), "35B expert 512x2048": (512, 2048),
        "27B gate 17408x5120": (17408, 5120), "27B down 5120x17408": (5120, 17408), "27B qkv 10240x5120": (10240, 5120),
    }
    for tokens in (256, 1024, 4096):
        for name, (out_f, in_f) in shapes.items():
            x = torch.randn(tokens, in_f, device="cuda", dtype=torch.bfloat16)
            w = torch.randn(out_f, in_f, device="cuda", dtype=torch.bfloat16)
            ms = timed(lambda: x @ w.t())
            print(f"  tokens {tokens:5d} {name:24s} {2 * tokens * out_f * in_f / ms / 1e9:7.1f} TFLOP/s  {ms * 1e3:8.1f} us")


if __name__ == "__main__":
    main()
