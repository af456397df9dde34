#!/usr/bin/env bash
# `hearth bench-lookup` on the committed corpus (testdata/lookup, written by
# tools/lookup_corpus/make-corpus.mjs): figures computed, not copied.
#  - synthetic/copy-turn.json: an assistant turn that repeats the user's message (random-letter words,
#    no repeated 4-grams): after its first token every draft is accepted, so steps, drafts and costs
#    follow from the turn's token count alone, and the script recomputes them from it.
#  - agent/: per-turn figures add up to the overall ones, every assistant turn is measured once.
# Usage: bench_lookup.sh HEARTH_BIN TOKENIZER_DIR TESTDATA_DIR
set -euo pipefail
hearth=$1
tokenizer=$2
data=$3/lookup

"$hearth" bench-lookup --requests "$data/synthetic" --tokenizer "$tokenizer" --json > /tmp/bench_lookup_synthetic.$$.json
"$hearth" bench-lookup --requests "$data/agent" --tokenizer "$tokenizer" --json --verify-cost 1:1,2:1.05,4:1.15,8:1.4 > /tmp/bench_lookup_agent.$$.json
"$hearth" bench-lookup --requests "$data/agent" --tokenizer "$tokenizer" | tail -n 1
trap 'rm -f /tmp/bench_lookup_synthetic.$$.json /tmp/bench_lookup_agent.$$.json' EXIT

python3 - /tmp/bench_lookup_synthetic.$$.json /tmp/bench_lookup_agent.$$.json "$data/agent" <<'PY'
import json, os, sys
syn = json.load(open(sys.argv[1]))
agent = json.load(open(sys.argv[2]))

def cost(k, table=((1, 1.0), (2, 1.05), (4, 1.15), (8, 1.4))):
    for (k0, r0), (k1, r1) in zip(table, table[1:]):
        if k <= k1 or (k1, r1) == table[-1]:
            return r0 + (r1 - r0) * (k - k0) / (k1 - k0)

assert len(syn["turns"]) == 1, syn
t = syn["turns"][0]
m = t["tokens"]
# The first token has nothing to copy from (the turn's header was never followed by anything); then
# drafts of 4, 8, 8, ... (the length doubles on full acceptance), each plus the verifier's own token,
# the last one capped at what is left.
steps, drafted, total = 1, 0, cost(1)
pos, length = 1, 4
while pos < m:
    d = min(length, m - pos)
    steps += 1
    drafted += d
    total += cost(d + 1)
    pos += min(d + 1, m - pos)
    length = min(8, 2 * length)
want = {"steps": steps, "drafted": drafted, "accepted": drafted, "draft_steps": steps - 1}
got = {k: t[k] for k in want}
assert got == want, f"copy turn of {m} tokens: got {got}, computed {want}"
assert abs(t["cost"] - total) < 1e-9 and abs(t["speedup"] - m / total) < 1e-9, (t, total)
assert t["acceptance_rate"] == 1.0 and m > 100, t

# Agent corpus: each assistant message of each session measured once; per-turn figures add up.
assistant_turns = sum(sum(1 for msg in json.load(open(os.path.join(sys.argv[3], f)))["messages"] if msg["role"] == "assistant")
                      for f in os.listdir(sys.argv[3]) if f.endswith(".json"))
o = agent["overall"]
assert o["turns"] == len(agent["turns"]) == assistant_turns, (o["turns"], len(agent["turns"]), assistant_turns)
for key in ("tokens", "steps", "drafted", "accepted", "draft_steps"):
    assert o[key] == sum(x[key] for x in agent["turns"]), key
for x in agent["turns"]:
    assert 0 <= x["accepted"] <= x["drafted"] and x["steps"] <= x["tokens"] and x["accepted"] + x["steps"] >= x["tokens"], x
assert abs(o["speedup"] - o["tokens"] / o["cost"]) < 1e-9
assert 0 < o["acceptance_rate"] < 1 and o["speedup"] > 1, o
print(f"ok: copy turn {m} tokens in {steps} steps; agent corpus {o['turns']} turns, {o['tokens']} tokens, "
      f"acceptance {o['acceptance_rate']:.3f}, {o['tokens_per_step']:.2f} tokens/step, speed-up x{o['speedup']:.2f}")
PY
