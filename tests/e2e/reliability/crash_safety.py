#!/usr/bin/env python3
"""kill -9 of `hearth serve` while it persists prompt-cache checkpoints to --cache-dir, then restarts.

The model is the tiny random qwen3_5 of testdata/tiny/dense-hf-bf16 (its real weights, the real
snapshot serialisation) with a small byte-level tokenizer written here (the demo model keeps nothing on
disk: its weights are random per start).

Each round starts the server on the same cache directory, sends requests that each bring a new system
prompt (so each writes a static-prefix checkpoint file) from several clients, and kills the server with
SIGKILL after a random delay. Before each restart the directory is also damaged on purpose: one
checkpoint cut short, one with a flipped byte in its state, one stray temporary file of a dead writer.
After every restart it checks that:
  - the server starts and answers;
  - every *.ckpt file left after start-up is complete (header, trailer, checksum all valid) except the
    flipped one, which the server refuses (and deletes, then writes afresh) at its first hit instead of
    restoring it;
  - no temporary file of a dead writer survives start-up;
  - a request whose static prefix is on disk is served from the disk checkpoint (cache_read_input_tokens
    > 0) and answers exactly what a server without any cache answers (temperature 0).
Exits non-zero on the first violation.

  python3 tests/e2e/reliability/crash_safety.py --hearth build/src/app/hearth --tokenizer .deps/qwen3-tokenizer
"""
import argparse
import glob
import http.client
import json
import os
import random
import signal
import struct
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tools/memory"))
sys.path.insert(0, os.path.join(ROOT, "tests/fuzz"))
import mutated_requests as mr  # noqa: E402
from make_seed_corpora import checksum, mini_tokenizer_json  # noqa: E402

MODEL_NAME = "hearth-tiny"


def make_model_dir(parent):
    """testdata/tiny/dense-hf-bf16 (vocab 512) with a byte-level tokenizer.json whose ids fit in it."""
    d = os.path.join(parent, "model")
    os.makedirs(d)
    tiny = os.path.join(ROOT, "testdata/tiny/dense-hf-bf16")
    with open(os.path.join(tiny, "config.json")) as f, open(os.path.join(d, "config.json"), "w") as out:
        out.write(f.read())
    os.symlink(os.path.join(tiny, "model.safetensors"), os.path.join(d, "model.safetensors"))
    tok = mini_tokenizer_json()
    first = max(tok["model"]["vocab"].values()) + 1
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "</tool_call>",
                "<tool_response>", "</tool_response>"]
    tok["added_tokens"] = [{"id": first + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                            "normalized": False, "special": True} for i, c in enumerate(specials)]
    with open(os.path.join(d, "tokenizer.json"), "w") as out:
        json.dump(tok, out)
    return d


def fail(message):
    print("FAIL:", message, file=sys.stderr)
    sys.exit(1)


def request_body(system, model=MODEL_NAME):
    return {"model": model, "max_tokens": 12, "temperature": 0, "system": system,
            "messages": [{"role": "user", "content": "Say something about checkpoints."}]}


def unsigned(content):
    """Content blocks without thinking signatures (each server process signs with its own key)."""
    return [{k: v for k, v in block.items() if k != "signature"} for block in content]


def post(port, body, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("POST", "/v1/messages", body=json.dumps(body), headers={"content-type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def file_is_complete(path):
    """Header, trailer and checksum of a checkpoint file (src/cache/disk_store.cpp's format)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 40 or data[:8] != b"HRTHCKPT" or data[-16:-8] != b"HRTHEND2":
        return False
    return struct.unpack("<Q", data[-8:])[0] == checksum(data[:-16])


def system_prompt(i):
    # Long enough that the checkpoint write takes a while (more chances for the kill to land in it).
    return f"System prompt number {i}. " + " ".join(f"rule-{i}-{k}: keep state." for k in range(40))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hearth", required=True)
    ap.add_argument("--tokenizer", help="ignored (the tokenizer is written with the model)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="hearth-crash-")
    model_dir = make_model_dir(work)
    args.tokenizer = os.path.join(model_dir, "tokenizer.json")
    cache_dir = os.path.join(work, "cache")
    model_flags = ["--model", model_dir, "--served-model-name", MODEL_NAME]
    flags = model_flags + ["--cache-dir", cache_dir, "--parallel", "2"]
    counter = [0]
    counter_lock = threading.Lock()
    attempted = []        # prompts of the last round (their checkpoints may be on disk)
    truncated = flipped = None
    answers = {}          # prompt -> answers served after a restart
    kills_mid_write = 0
    for round_ in range(args.rounds + 1):
        proc, port = mr.start_server(args, flags)
        try:
            leftovers = glob.glob(os.path.join(cache_dir, "*.tmp"))
            if leftovers:
                fail(f"round {round_}: temporary files of dead writers survived start-up: {leftovers}")
            if truncated and os.path.exists(truncated):
                fail(f"round {round_}: the truncated checkpoint {truncated} was kept at start-up")
            for path in sorted(glob.glob(os.path.join(cache_dir, "*.ckpt"))):
                if path != flipped and not file_is_complete(path):
                    fail(f"round {round_}: {path} is incomplete or damaged but was kept at start-up")
            # Every prompt of the last round again: those with a checkpoint on disk resume from it (the
            # flipped one must be refused and deleted instead), and all must answer.
            for i in attempted:
                status, data = post(port, request_body(system_prompt(i)))
                if status != 200:
                    fail(f"round {round_}: request over prompt {i} got {status}: {data[:300]!r}")
                answers.setdefault(i, []).append(json.loads(data))
            # Refused at its hit: deleted, then written afresh by the request that prefilled instead. Had
            # it been restored, it would still be the damaged file.
            if flipped and os.path.exists(flipped) and not file_is_complete(flipped):
                fail(f"round {round_}: the damaged checkpoint {flipped} was still there after its prompt was served")
            if round_ == args.rounds:
                break
            # Traffic that writes checkpoints, then SIGKILL at a random moment.
            attempted = []
            earlier_files = set(glob.glob(os.path.join(cache_dir, "*.ckpt")))
            stop = threading.Event()

            def client():
                while not stop.is_set():
                    with counter_lock:
                        i = counter[0]
                        counter[0] += 1
                        attempted.append(i)
                    try:
                        post(port, request_body(system_prompt(i)), timeout=30)
                    except (OSError, http.client.HTTPException):
                        return
            threads = [threading.Thread(target=client, daemon=True) for _ in range(3)]
            for t in threads:
                t.start()
            time.sleep(0.5 + rng.random() * 2.5)
            if glob.glob(os.path.join(cache_dir, "*.tmp")):
                kills_mid_write += 1
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            stop.set()
            for t in threads:
                t.join(timeout=30)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        # Damage on purpose: cut one file short, flip a bit inside another's state (both written this round,
        # so that the next round asks for the flipped one's prompt), leave a dead writer's temporary file.
        files = sorted(set(glob.glob(os.path.join(cache_dir, "*.ckpt"))) - earlier_files)
        truncated = flipped = None
        if len(files) >= 2:
            truncated, flipped = rng.sample(files, 2)
            with open(truncated, "r+b") as f:
                f.truncate(os.path.getsize(truncated) - rng.randrange(1, 64))
            size = os.path.getsize(flipped)
            with open(flipped, "r+b") as f:
                at = rng.randrange(size // 2, size - 16)
                f.seek(at)
                byte = f.read(1)
                f.seek(at)
                f.write(bytes([byte[0] ^ 0x01]))
        with open(os.path.join(cache_dir, "0123456789abcdef.ckpt.999999999.tmp"), "wb") as f:
            f.write(b"half written")

    # Every answer served after a restart equals a cache-less server's answer.
    proc, port = mr.start_server(args, model_flags + ["--no-prompt-cache"])
    checked = 0
    try:
        for i, served in sorted(answers.items())[:12]:
            status, data = post(port, request_body(system_prompt(i)))
            reference = unsigned(json.loads(data)["content"])
            for answer in served:
                if unsigned(answer["content"]) != reference:
                    fail(f"prompt {i}: the answer after a restart differs from the cache-less one: "
                         f"{answer['content']} vs {reference}")
                checked += 1
    finally:
        proc.terminate()
        proc.wait(10)
    hits = sum(1 for served in answers.values() for a in served if a["usage"].get("cache_read_input_tokens", 0) > 0)
    print(json.dumps({"rounds": args.rounds, "prompts_sent": counter[0], "kills_while_a_temp_file_existed": kills_mid_write,
                      "answers_after_restarts": sum(len(v) for v in answers.values()),
                      "answers_from_a_disk_checkpoint": hits, "answers_checked_against_no_cache": checked}))
    if hits == 0:
        fail("no answer came from a disk checkpoint: the test did not exercise restarts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
