#!/usr/bin/env python3
"""Resident memory of `hearth serve` under mutated copies of real Claude Code requests.

Reproduces issue 15's report (RSS growing from ~194 MiB by a third over 100 mutated requests on the CPU
demo model) and measures a fix: starts the server, sends N requests made by mutating the recorded
Claude Code bodies in testdata/chat/claude_session.jsonl (seeded, so a run is repeatable), and samples
VmRSS of the server after every request. Prints a table and a JSON summary line; exits 1 when the RSS
after warm-up grew by more than --max-growth-mib (0: never fails, just measures).

  python3 tools/memory/mutated_requests.py --hearth build-cpu/src/app/hearth \
      --tokenizer .deps/qwen3-tokenizer --requests 100 -- --cache-host-bytes 64M --cache-device-bytes 0

Everything after `--` goes to `hearth serve`. Standard library only.
"""
import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_kib(pid):
    return status_kib(pid, "VmRSS")


def memfd_kib(pid, name):
    """Memory a memfd of the process holds (its allocated blocks), mapped or not. RSS misses the KV pool's
    pages that no sequence maps (those only checkpoints hold), so the KV figure comes from here."""
    total = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if name in os.readlink(f"/proc/{pid}/fd/{fd}"):
                total += os.stat(f"/proc/{pid}/fd/{fd}").st_blocks // 2
        except OSError:
            pass
    return total


def rss_parts_kib(pid):
    """Memory by kind: weights (RSS of safetensors files, or of the dummy weights' memfd, whose pools are
    mapped many times over, so that their RSS grows as rows are first read while the physical memory
    does not), kv (the KV page pool's memfd: all its pages, mapped or not), heap (RSS of malloc's heap
    and anonymous mappings), other (RSS of the rest: code, libraries)."""
    parts = {"weights": 0, "kv": memfd_kib(pid, "hearth-kv-pages"), "heap": 0, "other": 0}
    name = ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = head[5] if len(head) > 5 else ""
            elif head[0] == "Rss:":
                if "hearth-dummy-weights" in name or name.endswith(".safetensors"):
                    kind = "weights"
                elif "hearth-kv-pages" in name:
                    continue  # counted from the memfd itself
                elif name in ("", "[heap]") or name.startswith("[anon"):
                    kind = "heap"
                else:
                    kind = "other"
                parts[kind] += int(head[1])
    return parts


def metric(port, name):
    """Sum of a Prometheus family's samples in GET /metrics (None when the server has no such family)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith(name + " ") or line.startswith(name + "{")]
    return sum(values) if values else None


def random_text(rng):
    """Text of the kinds real edits bring: code, long identifiers, base64, other scripts, emoji."""
    kind = rng.randrange(6)
    n = rng.choice([8, 40, 200, 1500])
    if kind == 0:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_0123456789") for _ in range(n))
    if kind == 1:
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(n))
    if kind == 2:
        return "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(n // 4 + 1))
    if kind == 3:
        return " ".join("".join(rng.choice("etaoinshrdlu") for _ in range(rng.randrange(1, 12))) for _ in range(n // 6 + 1))
    if kind == 4:
        return "".join(chr(rng.randrange(0x1F300, 0x1F6FF)) for _ in range(n // 8 + 1))
    return "".join(chr(rng.randrange(0x20, 0x7F)) for _ in range(n))


def mutate_value(value, rng, depth=0):
    """One structural or textual change somewhere inside `value` (returns the new value)."""
    if isinstance(value, dict) and value:
        key = rng.choice(list(value))
        r = rng.random()
        if r < 0.08 and depth > 0:
            del value[key]
        elif r < 0.12:
            value[random_text(rng)[:20]] = random_text(rng)
        else:
            value[key] = mutate_value(value[key], rng, depth + 1)
        return value
    if isinstance(value, list) and value:
        i = rng.randrange(len(value))
        r = rng.random()
        if r < 0.1:
            value.insert(i, json.loads(json.dumps(value[i])))
        elif r < 0.15 and len(value) > 1:
            del value[i]
        else:
            value[i] = mutate_value(value[i], rng, depth + 1)
        return value
    if isinstance(value, str):
        r = rng.random()
        if r < 0.5:
            at = rng.randrange(len(value) + 1)
            return value[:at] + random_text(rng) + value[at:]
        if r < 0.7:
            return random_text(rng)
        if r < 0.8:
            return value[: rng.randrange(len(value) + 1)]
        return value + value
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return rng.choice([0, -1, 1, 7, 2**31, 1e308, value * 2, value // 2 if isinstance(value, int) else value / 2])
    return rng.choice([None, "", 0, [], {}])


def make_request(bases, rng, max_tokens, model):
    body = json.loads(json.dumps(rng.choice(bases)))
    body["model"] = model  # the recordings name another server's model
    for _ in range(rng.randrange(1, 6)):
        body = mutate_value(body, rng)
    if isinstance(body, dict):
        # Keep generation short unless the mutation broke the field (then the server must say 400).
        if isinstance(body.get("max_tokens"), int) and body["max_tokens"] > max_tokens:
            body["max_tokens"] = max_tokens
        if rng.random() < 0.5:
            body["stream"] = rng.random() < 0.7
    raw = json.dumps(body, ensure_ascii=rng.random() < 0.5).encode()
    if rng.random() < 0.1:  # byte-level damage: the JSON itself broken
        b = bytearray(raw)
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        raw = bytes(b)
    return raw


def send(port, raw, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("POST", "/v1/messages", body=raw,
                 headers={"content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def start_server(args, extra):
    cmd = [args.hearth, "serve", "--port", "0", "--tokenizer", args.tokenizer, "--no-log-requests"] + extra
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"listening on http://[^:]+:(\d+)", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, int(m.group(1))
    proc.kill()
    sys.exit("hearth did not start:\n" + "".join(lines) + proc.stderr.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hearth", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--model-name", default="hearth-demo", help="the name the server serves")
    ap.add_argument("--warmup", type=int, default=20, help="requests before the baseline RSS is taken")
    ap.add_argument("--max-growth-mib", type=float, default=0)
    ap.add_argument("--every", type=int, default=10, help="print a row every N requests")
    ap.add_argument("--timeout", type=float, default=300)
    args, extra = ap.parse_known_args()
    extra = [e for e in extra if e != "--"]

    with open(os.path.join(ROOT, "testdata/chat/claude_session.jsonl")) as f:
        bases = [json.loads(line) for line in f if line.strip()]
    rng = random.Random(args.seed)
    proc, port = start_server(args, extra)
    statuses = {}
    start_kib = rss_kib(proc.pid)
    base_kib = None
    base_parts = end_parts = rss_parts_kib(proc.pid)
    peak_kib = start_kib
    print(f"{'request':>8} {'rss':>7} {'weights':>7} {'kv':>7} {'heap':>7} {'cache':>7} statuses"
          "  (MiB; cache: hearth_cache_bytes, all tiers)")
    print(f"{0:>8} {start_kib / 1024:8.1f}")
    try:
        for i in range(1, args.requests + 1):
            raw = make_request(bases, rng, args.max_tokens, args.model_name)
            try:
                status, _ = send(port, raw, args.timeout)
            except Exception as e:  # a dropped connection is a finding too
                status = f"error:{type(e).__name__}"
            statuses[status] = statuses.get(status, 0) + 1
            if proc.poll() is not None:
                sys.exit(f"hearth exited ({proc.returncode}) at request {i}")
            kib = rss_kib(proc.pid)
            peak_kib = max(peak_kib, kib)
            if i == args.warmup:
                base_kib = kib
                base_parts = rss_parts_kib(proc.pid)
            if i % args.every == 0 or i == args.requests:
                cache = metric(port, "hearth_cache_bytes") or 0
                parts = rss_parts_kib(proc.pid)
                print(f"{i:>8} {kib / 1024:7.1f} {parts['weights'] / 1024:7.1f} {parts['kv'] / 1024:7.1f} "
                      f"{parts['heap'] / 1024:7.1f} {cache / 2**20:7.1f} {dict(sorted(statuses.items(), key=str))}", flush=True)
        end_kib = rss_kib(proc.pid)
        end_parts = rss_parts_kib(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    # The bound is on what the server allocates (heap, KV pages, everything but the weights' mappings):
    # weight pages come in as new tokens are first embedded, up to the size of the model.
    own = lambda parts: sum(v for k, v in parts.items() if k != "weights")
    growth = (own(end_parts) - own(base_parts)) / 1024 if base_kib else 0.0
    summary = {"requests": args.requests, "start_mib": round(start_kib / 1024, 1),
               "after_warmup_mib": round((base_kib or start_kib) / 1024, 1), "end_mib": round(end_kib / 1024, 1),
               "peak_mib": round(peak_kib / 1024, 1), "end_parts_mib": {k: round(v / 1024, 1) for k, v in end_parts.items()},
               "growth_after_warmup_without_weights_mib": round(growth, 1),
               "statuses": {str(k): v for k, v in statuses.items()}, "server_args": extra}
    print(json.dumps(summary))
    bad = [k for k in statuses if k not in (200, 400, 404, 413)]
    if bad:
        print(f"unexpected statuses: {bad}", file=sys.stderr)
        return 1
    if args.max_growth_mib > 0 and growth > args.max_growth_mib:
        print(f"RSS without the weights grew {growth:.1f} MiB after warm-up (limit {args.max_growth_mib})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
