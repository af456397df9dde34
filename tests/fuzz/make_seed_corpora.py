#!/usr/bin/env python3
"""Writes the seed corpora of the request, encoder, tokenizer, loaders and snapshot fuzz targets
(tests/fuzz/corpus/TARGET/seed-*). Run from the repository root:

    python3 tests/fuzz/make_seed_corpora.py

Seeds come from committed test data (recorded Claude Code requests, the tiny models' config.json) and
small files built here (a minimal tokenizer.json, safetensors files, checkpoint files in the format of
src/cache/disk_store.cpp). Inputs found by long fuzz runs are merged next to them (seed-* are rewritten,
the others kept).
"""
import json
import os
import struct
import glob

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests/fuzz/corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def requests():
    with open(os.path.join(ROOT, "testdata/chat/claude_session.jsonl")) as f:
        for i, line in enumerate(f):
            if line.strip():
                put("request", f"claude_session_{i}", line.strip())
    with open(os.path.join(ROOT, "testdata/render/cli_request.json")) as f:
        put("request", "cli_request", f.read())
    put("request", "minimal", '{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}')
    put("request", "tools", json.dumps({
        "model": "m", "max_tokens": 8, "stream": True, "stop_sequences": ["\n\n"],
        "tool_choice": {"type": "tool", "name": "Bash"}, "thinking": {"type": "enabled", "budget_tokens": 1024},
        "tools": [{"name": "Bash", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}],
        "messages": [{"role": "user", "content": "x"},
                     {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"},
                                                       {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "a\nb", "is_error": False},
                                                  {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}]}]}))
    put("request", "escapes", '{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"\\ud83d\\ude00\\u00e9\\"\\\\"}]}')


def encoder():
    # op bytes: low 2 bits block kind, bits 2-3 start/end/delta; see encoder_fuzz.cpp
    put("encoder", "text", bytes([1, ord("m"), 1, 4, ord("S"), ord("T"), ord("O"), ord("P"), 0, 8, 12, 8, 13, 8, 10, 8, 11, 4, 0]))
    put("encoder", "thinking_then_tool", bytes([0, 0, 1, 9, 1, 2, 2, 4, ord("B"), ord("a"), ord("s"), ord("h"),
                                                10, 0, 10, 2, 10, 3, 10, 4, 10, 1, 6, 3]))
    put("encoder", "fail", bytes([0, 0, 0, 8, 5, 4, 6]))


def tokenizer():
    put("tokenizer", "code", "def f(x):\n    return x  # comment\n\tif a != b: pass\n")
    put("tokenizer", "special", "<|im_start|>user\nhello<|im_end|>\n<think>\n\n</think>\n\n<tool_call>")
    put("tokenizer", "unicode", "中文 日本語 한국어 é́ ﬁ Ａ 😀👍🏽 \u200b\u00a0")
    put("tokenizer", "invalid", b"ab\xff\xfe\xc0\x80\xed\xa0\x80\xf0\x9f\x98 end")
    put("tokenizer", "long_word", "a" * 600 + " " + "xY0+/" * 80)
    put("tokenizer", "spaces", " " * 40 + "\n" * 20 + "\r\n\t \t")


def mini_tokenizer_json():
    # A byte-level BPE with the 256 byte tokens, a few merges and added tokens, GPT-2 style pre-tokenizer.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    byte_text = {b: chr(c) for b, c in zip(bs, cs)}
    vocab = {byte_text[b]: b for b in range(256)}
    merges = []
    for left, right in [("h", "e"), ("l", "l"), ("he", "ll"), ("Ġ", "w"), ("o", "r")]:
        vocab[left + right] = len(vocab)
        merges.append(f"{left} {right}")
    added = [{"id": len(vocab) + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, c in enumerate(["<|im_start|>", "<|im_end|>"])]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "\\s+|\\w+|[^\\s\\w]+"}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": None, "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }


def safetensors(tensors, metadata=None):
    header = {}
    data = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def loaders():
    put("loaders", "tokenizer_json", b"\x00" + json.dumps(mini_tokenizer_json()).encode())
    for path in sorted(glob.glob(os.path.join(ROOT, "testdata/tiny/*/config.json"))):
        with open(path, "rb") as f:
            put("loaders", "config_" + os.path.basename(os.path.dirname(path)), b"\x01" + f.read())
    put("loaders", "safetensors_f32", b"\x02" + safetensors({"a.weight": ("F32", [2, 3], bytes(24)), "b": ("BF16", [4], bytes(8))}, {"format": "pt"}))
    put("loaders", "safetensors_mlx", b"\x02" + safetensors({"q.weight": ("U32", [2, 1], bytes(8)), "q.scales": ("BF16", [2, 1], bytes(4)),
                                                           "q.biases": ("BF16", [2, 1], bytes(4))}, {"format": "mlx"}))
    put("loaders", "safetensors_empty", b"\x02" + safetensors({}))


def checksum(data):
    # src/cache/disk_store.cpp's Checksum: 4096-byte blocks of 64-bit words, the tail zero-padded.
    mask = (1 << 64) - 1
    h = 0xcbf29ce484222325
    for i in range(0, len(data), 4096):
        block = data[i:i + 4096]
        block += bytes(-len(block) % 4096)
        for (w,) in struct.iter_unpack("<Q", block):
            h = ((h ^ ((w * 0x9E3779B97F4A7C15) & mask)) * 0x100000001b3) & mask
            h ^= h >> 29
    x = h ^ len(data)
    x ^= x >> 33
    x = (x * 0xff51afd7ed558ccd) & mask
    x ^= x >> 33
    x = (x * 0xc4ceb9fe1a85ec53) & mask
    return x ^ (x >> 33)


def checkpoint(path, kind=0, identity=b"fuzz-model"):
    # Header, then tests/cache/fake_model.h's state (token count, tokens, hash), then the trailer.
    body = b"HRTHCKPT" + struct.pack("<II", 2, kind) + struct.pack("<Q", len(identity)) + identity
    body += struct.pack("<Q", len(path)) + struct.pack(f"<{len(path)}i", *path)
    body += struct.pack("<Q", len(path)) + struct.pack(f"<{len(path)}i", *path) + struct.pack("<Q", 0x1234)
    return body + b"HRTHEND2" + struct.pack("<Q", checksum(body))


def snapshot():
    put("snapshot", "one_token", checkpoint([7]))
    put("snapshot", "eight_tokens", checkpoint([1, 2, 3, 4, 5, 6, 7, 8], kind=1))
    put("snapshot", "truncated", checkpoint([1, 2, 3])[:-9])
    put("snapshot", "other_model", checkpoint([1, 2], identity=b"other"))


if __name__ == "__main__":
    requests()
    encoder()
    tokenizer()
    loaders()
    snapshot()
