#!/usr/bin/env python3
"""Soak test of `hearth serve`: many concurrent clients for a set time, mixing well-behaved and hostile
traffic, against the CPU demo model (or any --model), then checks that the server held up.

Clients pick, at random, one of: a plain request; a streamed one (read in full, every SSE frame
checked); a stream dropped mid-prefill or mid-decode; a slow reader (consumes SSE in small sips); a
reader that stalls and then hangs up; a cancelled plain request; malformed JSON; a body over
--max-body-bytes; a prompt longer than the context; count_tokens; a mutated copy of a recorded Claude
Code request. Every answer must be a well-formed success or the right 4xx (529 when the queue is full).

At the end it asserts: the server never crashed; no sequence is stuck (queue and running go to 0); a
fresh request still succeeds; the prompt cache never reported more than its budgets (sampled each
second from /metrics); the memory the server allocates (heap, KV pages; not the weights' mappings, whose
RSS grows as token rows are first read) grew by at most --max-growth-mib after warm-up. It prints a JSON
summary (requests by kind and status, disconnects, peak RSS) that docs/RELIABILITY.md records.

  python3 tools/soak/soak.py --hearth build/src/app/hearth --tokenizer .deps/qwen3-tokenizer --duration 600

Everything after `--` goes to `hearth serve`. Standard library only.
"""
import argparse
import http.client
import json
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "memory"))
import mutated_requests as mr  # noqa: E402  (server start-up, RSS, /metrics, request mutation)

KINDS = ["plain", "stream", "drop_prefill", "drop_decode", "slow_reader", "stall_then_hang_up", "cancel_plain",
         "malformed", "oversized", "too_long", "count_tokens", "mutated"]


class Failure(Exception):
    pass


def body_for(model, rng, stream, words=20, max_tokens=None):
    text = " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "code", "fn()", "{x}", "é", "中"]) for _ in range(words))
    return {"model": model, "max_tokens": max_tokens or rng.randrange(1, 40), "stream": stream,
            "messages": [{"role": "user", "content": text}]}


def post_raw(port, path, raw, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("POST", path, body=raw, headers={"content-type": "application/json", "x-api-key": "k"})
    return conn, conn.getresponse()


def check_message(data):
    msg = json.loads(data)
    if msg.get("type") != "message" or not isinstance(msg.get("content"), list) or "usage" not in msg:
        raise Failure(f"malformed message: {data[:200]!r}")


def read_sse(resp, sip=None, pause=0.0, stop_after_deltas=None):
    """Reads an SSE body, checking each frame; returns the event types (or stops early)."""
    buf = b""
    events = []
    deltas = 0
    while True:
        chunk = resp.read1(sip or 65536) if hasattr(resp, "read1") else resp.read(sip or 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n\n" in buf:
            frame, buf = buf.split(b"\n\n", 1)
            lines = frame.decode("utf-8").split("\n")  # raises on invalid UTF-8
            if len(lines) != 2 or not lines[0].startswith("event: ") or not lines[1].startswith("data: "):
                raise Failure(f"malformed SSE frame: {frame[:200]!r}")
            kind = lines[0][7:]
            data = json.loads(lines[1][6:])
            if data.get("type") != kind:
                raise Failure(f"SSE event {kind} carries type {data.get('type')}")
            events.append(kind)
            if kind == "content_block_delta":
                deltas += 1
                if stop_after_deltas and deltas >= stop_after_deltas:
                    return events
        if pause:
            time.sleep(pause)
    if buf.strip():
        raise Failure(f"SSE body ends inside a frame: {buf[:200]!r}")
    # Pings may come anywhere, before message_start too (the heartbeat of a request still waiting for
    # the model); the rest must run message_start .. message_stop, or end in an error event.
    flow = [e for e in events if e != "ping"]
    if flow and flow[-1] == "error":
        return events
    if not flow or flow[0] != "message_start" or flow[-1] != "message_stop" or flow.count("message_start") != 1:
        raise Failure(f"SSE stream not message_start..message_stop: {flow[:3]}..{flow[-3:]}")
    return events


class Soak:
    def __init__(self, args, port):
        self.args = args
        self.port = port
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []
        self.disconnects = 0
        self.stop = threading.Event()
        with open(os.path.join(mr.ROOT, "testdata/chat/claude_session.jsonl")) as f:
            self.bases = [json.loads(line) for line in f if line.strip()]

    def count(self, kind, status):
        with self.lock:
            key = f"{kind}:{status}"
            self.counts[key] = self.counts.get(key, 0) + 1

    def expect(self, kind, status, allowed):
        self.count(kind, status)
        if status not in allowed and status != 529:  # 529: the queue was full, a correct answer under load
            raise Failure(f"{kind}: status {status}, expected {allowed}")

    def one(self, kind, rng):
        a, port, model = self.args, self.port, self.args.model_name
        if kind == "plain":
            conn, resp = post_raw(port, "/v1/messages", json.dumps(body_for(model, rng, False)))
            data = resp.read()
            self.expect(kind, resp.status, [200])
            if resp.status == 200:
                check_message(data)
        elif kind == "stream" or kind == "slow_reader":
            conn, resp = post_raw(port, "/v1/messages", json.dumps(body_for(model, rng, True)))
            self.expect(kind, resp.status, [200])
            if resp.status == 200:
                read_sse(resp, sip=64 if kind == "slow_reader" else None, pause=0.02 if kind == "slow_reader" else 0)
            else:
                resp.read()
        elif kind in ("drop_prefill", "stall_then_hang_up", "cancel_plain"):
            # Raw socket: send the request, then hang up (at once, after stalling, or before the answer).
            stream = kind != "cancel_plain"
            raw = json.dumps(body_for(model, rng, stream, words=rng.choice([20, 400, 1500]), max_tokens=200)).encode()
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-api-key: k\r\n"
                      b"Content-Length: " + str(len(raw)).encode() + b"\r\n\r\n" + raw)
            time.sleep({"drop_prefill": rng.random() * 0.05, "stall_then_hang_up": 1 + rng.random() * 2,
                        "cancel_plain": rng.random() * 0.3}[kind])
            s.close()
            self.count(kind, "hung_up")
            with self.lock:
                self.disconnects += 1
        elif kind == "drop_decode":
            conn, resp = post_raw(port, "/v1/messages", json.dumps(body_for(model, rng, True, max_tokens=200)))
            self.expect(kind, resp.status, [200])
            if resp.status == 200:
                read_sse(resp, stop_after_deltas=2)
            conn.sock.close() if conn.sock else None
            conn.close()
            with self.lock:
                self.disconnects += 1
        elif kind == "malformed":
            raw = rng.choice([b"{", b"[]", b"{\"model\": 1}", b"\xff\xfe", json.dumps(body_for(model, rng, False))[:-3].encode()])
            conn, resp = post_raw(port, "/v1/messages", raw)
            resp.read()
            self.expect(kind, resp.status, [400])
        elif kind == "oversized":
            raw = b"{\"model\":\"x\",\"pad\":\"" + b"a" * (a.max_body_bytes + 1000) + b"\"}"
            try:
                conn, resp = post_raw(port, "/v1/messages", raw)
                resp.read()
                self.expect(kind, resp.status, [413])
            except (BrokenPipeError, ConnectionResetError):
                self.count(kind, "reset")  # refused before the whole body was sent: also right
        elif kind == "too_long":
            body = body_for(model, rng, rng.random() < 0.5, words=a.context_tokens)  # 1+ tokens per word
            conn, resp = post_raw(port, "/v1/messages", json.dumps(body))
            data = resp.read()
            self.expect(kind, resp.status, [400])
            if resp.status == 400 and b"too long" not in data:
                raise Failure(f"too_long: 400 without saying so: {data[:200]!r}")
        elif kind == "count_tokens":
            conn, resp = post_raw(port, "/v1/messages/count_tokens", json.dumps(body_for(model, rng, False)))
            data = resp.read()
            self.expect(kind, resp.status, [200])
            if resp.status == 200 and not isinstance(json.loads(data).get("input_tokens"), int):
                raise Failure("count_tokens without input_tokens")
        elif kind == "mutated":
            raw = mr.make_request(self.bases, rng, 24, model)
            conn, resp = post_raw(port, "/v1/messages", raw)
            data = resp.read()
            self.expect(kind, resp.status, [200, 400, 404, 413])
            if resp.status == 200:
                if data.startswith(b"event:"):
                    pass  # streamed: checked by the stream kinds; here only the status matters
                else:
                    check_message(data)

    def client(self, seed):
        rng = random.Random(seed)
        while not self.stop.is_set():
            kind = rng.choice(KINDS)
            try:
                self.one(kind, rng)
            except Failure as e:
                with self.lock:
                    self.failures.append(str(e))
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.failures.append(f"{kind}: {type(e).__name__}: {e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hearth", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--duration", type=float, default=30, help="seconds of traffic")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--model-name", default="hearth-demo")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--context-tokens", type=int, default=4096, help="--max-context of the server")
    ap.add_argument("--max-body-bytes", type=int, default=1 << 20)
    ap.add_argument("--cache-host-bytes", type=int, default=32 << 20)
    ap.add_argument("--warmup-fraction", type=float, default=0.3)
    ap.add_argument("--max-growth-mib", type=float, default=64)
    args, extra = ap.parse_known_args()
    extra = [e for e in extra if e != "--"]
    server_args = ["--parallel", str(args.parallel), "--max-context", str(args.context_tokens),
                   "--max-body-bytes", str(args.max_body_bytes), "--cache-host-bytes", str(args.cache_host_bytes),
                   "--cache-device-bytes", "0", "--read-timeout", "5", "--header-timeout", "5",
                   "--queue-size", str(2 * args.clients)] + extra
    proc, port = mr.start_server(args, server_args)
    soak = Soak(args, port)
    samples = []
    over_budget = []
    threads = [threading.Thread(target=soak.client, args=(args.seed * 1000 + i,), daemon=True) for i in range(args.clients)]
    start = time.time()
    for t in threads:
        t.start()
    crashed = None
    try:
        while time.time() - start < args.duration:
            time.sleep(1)
            if proc.poll() is not None:
                crashed = proc.returncode
                break
            rss = mr.rss_kib(proc.pid) / 1024
            parts = mr.rss_parts_kib(proc.pid)
            own = sum(v for k, v in parts.items() if k != "weights") / 1024
            try:
                host = mr.metric(port, 'hearth_cache_bytes{tier="host"}') or 0
            except OSError:
                host = 0
            samples.append((time.time() - start, rss, own))
            if host > args.cache_host_bytes:
                over_budget.append(host)
        soak.stop.set()
        for t in threads:
            t.join(timeout=120)
        stuck = None
        if crashed is None:
            # No stuck sequence: everything drains once the clients are gone.
            deadline = time.time() + 30
            while time.time() < deadline:
                running = mr.metric(port, "hearth_requests_running") or 0
                waiting = mr.metric(port, "hearth_queue_depth") or 0
                if running == 0 and waiting == 0:
                    break
                time.sleep(0.5)
            else:
                stuck = (running, waiting)
            conn, resp = post_raw(port, "/v1/messages", json.dumps(body_for(args.model_name, random.Random(1), False)))
            final_status = resp.status
            check_message(resp.read())
        end_rss = mr.rss_kib(proc.pid) / 1024 if crashed is None else 0
        end_own = (sum(v for k, v in mr.rss_parts_kib(proc.pid).items() if k != "weights") / 1024
                   if crashed is None else 0)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except Exception:
            proc.kill()
    # Growth is judged on the memory the server allocates (heap, KV pages, code): without the weights'
    # mappings, whose RSS grows as token rows are first read (tools/memory/mutated_requests.py).
    warm = [o for t, _, o in samples if t >= args.duration * args.warmup_fraction]
    base = warm[0] if warm else (samples[0][2] if samples else 0)
    peak = max([r for _, r, _ in samples] + [end_rss])
    by_kind = {}
    for key, n in soak.counts.items():
        by_kind[key] = n
    served = sum(n for k, n in soak.counts.items() if k.split(":")[1] not in ("hung_up", "reset"))
    summary = {"duration_s": args.duration, "clients": args.clients, "requests": sum(soak.counts.values()),
               "answered": served, "disconnects": soak.disconnects, "rss_end_mib": round(end_rss, 1),
               "rss_peak_mib": round(peak, 1), "own_memory_after_warmup_mib": round(base, 1),
               "own_memory_end_mib": round(end_own, 1), "own_growth_after_warmup_mib": round(end_own - base, 1),
               "cache_over_budget_samples": len(over_budget),
               "failures": len(soak.failures), "by_kind_and_status": dict(sorted(by_kind.items()))}
    print(json.dumps(summary, indent=1))
    problems = []
    if crashed is not None:
        problems.append(f"hearth exited with {crashed}")
    if soak.failures:
        distinct = sorted(set(f[:120] for f in soak.failures))
        problems.append(f"{len(soak.failures)} failed exchanges, {len(distinct)} kinds: {distinct[:8]}")
    if crashed is None and stuck:
        problems.append(f"sequences stuck after the clients left: running, waiting = {stuck}")
    if crashed is None and final_status != 200:
        problems.append(f"a fresh request after the soak got {final_status}")
    if over_budget:
        problems.append(f"host cache over its budget in {len(over_budget)} samples (max {max(over_budget)})")
    if crashed is None and end_own - base > args.max_growth_mib:
        problems.append(f"memory without the weights grew {end_own - base:.1f} MiB after warm-up "
                        f"(limit {args.max_growth_mib})")
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
