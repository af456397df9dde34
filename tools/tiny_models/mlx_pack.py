"""MLX weight packing for the tiny test models: bfloat16 rounding, the FP4/FP8 value tables, MLX's
affine / mxfp4 / nvfp4 quantizers with MLX's exact bit layout (shared/reference/mlx-formats.md), and a
dependency-free safetensors writer. Used by make_tiny_models.py; runs without torch.
"""
import json
import struct

import numpy as np


# ---------------------------------------------------------------------------------------------------
# bf16 / fp helpers


def bf16_bits(a):
    """float32 array -> uint16 bf16 bit patterns, round to nearest even."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def from_bf16_bits(b):
    return (b.astype(np.uint32) << 16).view(np.float32)


def bf16_round(a):
    return from_bf16_bits(bf16_bits(a))


E2M1 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6], dtype=np.float32)


def e4m3_table():
    vals = np.zeros(256, dtype=np.float32)
    for c in range(256):
        s = -1.0 if c & 0x80 else 1.0
        e = (c >> 3) & 0xF
        m = c & 7
        if e == 0xF and m == 7:
            vals[c] = np.nan
        elif e == 0:
            vals[c] = s * (m / 8.0) * 2.0 ** -6
        else:
            vals[c] = s * (1 + m / 8.0) * 2.0 ** (e - 7)
    return vals


E4M3 = e4m3_table()


def e8m0_value(s):
    s = np.asarray(s, dtype=np.int64)
    return np.where(s == 0, np.float32(2.0 ** -127), np.ldexp(np.float32(1.0), (s - 127).astype(np.int32))).astype(np.float32)


def nearest_code(values, table):
    """Index into `table` (finite entries) nearest to each value; ties go to the lower magnitude."""
    finite = np.where(np.isfinite(table))[0]
    best = np.zeros(values.shape, dtype=np.int64)
    best_err = np.full(values.shape, np.inf, dtype=np.float64)
    for c in finite:
        err = np.abs(values.astype(np.float64) - float(table[c]))
        better = err < best_err
        best = np.where(better, c, best)
        best_err = np.where(better, err, best_err)
    return best


def pack_codes(codes, bits):
    """codes [..., n] unsigned ints < 2**bits -> uint32 [..., n*bits/32], MLX layout (bits 2, 4, 8)."""
    assert bits in (2, 4, 8)
    per = 32 // bits
    shape = codes.shape
    c = codes.reshape(*shape[:-1], shape[-1] // per, per).astype(np.uint64)
    shifts = (np.arange(per, dtype=np.uint64) * bits)
    words = np.sum(c << shifts, axis=-1)
    return words.astype(np.uint32)


def unpack_codes(words, bits, n):
    per = 32 // bits
    shifts = (np.arange(per, dtype=np.uint32) * bits)
    c = (words[..., None] >> shifts) & ((1 << bits) - 1)
    return c.reshape(*words.shape[:-1], n)


# ---------------------------------------------------------------------------------------------------
# MLX quantizers: return (tensors dict suffix->array, dequantised float32 weight)


def quantize_affine(w, bits, group):
    shape = w.shape
    g = w.reshape(*shape[:-1], shape[-1] // group, group).astype(np.float32)
    n_bins = (1 << bits) - 1
    wmax = g.max(axis=-1)
    wmin = g.min(axis=-1)
    span = np.maximum(wmax - wmin, 1e-7)
    # As MLX does, the edge with the larger magnitude is the bias and the scale points away from it,
    # so about half the groups get negative scales.
    use_min = np.abs(wmin) >= np.abs(wmax)
    scale = np.where(use_min, span / n_bins, -span / n_bins).astype(np.float32)
    bias = np.where(use_min, wmin, wmax).astype(np.float32)
    scale_b = bf16_bits(scale)
    bias_b = bf16_bits(bias)
    s = from_bf16_bits(scale_b)[..., None]
    b = from_bf16_bits(bias_b)[..., None]
    q = np.clip(np.rint((g - b) / s), 0, n_bins).astype(np.int64)
    deq = (s * q.astype(np.float32) + b).astype(np.float32).reshape(shape)
    packed = pack_codes(q.reshape(shape), bits)
    return {"weight": ("U32", packed), "scales": ("BF16", scale_b), "biases": ("BF16", bias_b)}, deq


def quantize_mxfp4(w):
    group = 32
    shape = w.shape
    g = w.reshape(*shape[:-1], shape[-1] // group, group).astype(np.float32)
    amax = np.abs(g).max(axis=-1)
    e = np.ceil(np.log2(np.maximum(amax, 1e-30) / 6.0))
    s = np.clip(e + 127, 1, 254).astype(np.int64)
    scale = e8m0_value(s)[..., None]
    codes = nearest_code(g / scale, E2M1)
    deq = (E2M1[codes] * scale).astype(np.float32).reshape(shape)
    packed = pack_codes(codes.reshape(shape), 4)
    return {"weight": ("U32", packed), "scales": ("U8", s.astype(np.uint8))}, deq


def quantize_nvfp4(w):
    group = 16
    shape = w.shape
    g = w.reshape(*shape[:-1], shape[-1] // group, group).astype(np.float32)
    amax = np.abs(g).max(axis=-1)
    positive = np.where(E4M3 > 0)[0]
    sc = nearest_code(amax / 6.0, np.where(E4M3 > 0, E4M3, np.nan).astype(np.float32))
    sc = np.where(amax > 0, sc, 0).astype(np.int64)
    scale = E4M3[sc]
    safe = np.where(scale > 0, scale, 1.0)[..., None]
    codes = nearest_code(np.clip(g / safe, -6, 6), E2M1)
    deq = (E2M1[codes] * scale[..., None]).astype(np.float32).reshape(shape)
    del positive
    packed = pack_codes(codes.reshape(shape), 4)
    return {"weight": ("U32", packed), "scales": ("U8", sc.astype(np.uint8))}, deq


def quantize(w, mode, bits, group):
    if mode == "affine":
        return quantize_affine(w, bits, group)
    if mode == "mxfp4":
        return quantize_mxfp4(w)
    if mode == "nvfp4":
        return quantize_nvfp4(w)
    raise ValueError(mode)


# ---------------------------------------------------------------------------------------------------
# safetensors writer (the format is small enough to write by hand: no dependency)

DTYPE_SIZE = {"F32": 4, "BF16": 2, "U32": 4, "U8": 1}


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        dtype, arr = tensors[name]
        raw = np.ascontiguousarray(arr).tobytes()
        assert len(raw) == arr.size * DTYPE_SIZE[dtype], name
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return offset
