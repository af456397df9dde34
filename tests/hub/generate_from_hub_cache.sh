#!/usr/bin/env bash
# `hearth generate --model ORG/NAME[@REV]` end to end on a fake Hugging Face cache laid out as
# huggingface_hub writes it (refs/, snapshots/<commit>/ holding symbolic links into blobs/), with a tiny
# test model as the repository's files. Usage: generate_from_hub_cache.sh HEARTH_BIN TINY_MODEL_DIR
set -euo pipefail
hearth=$1
model=$2
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
commit=0123456789abcdef0123456789abcdef01234567
repo=$cache/models--test-org--tiny-dense
mkdir -p "$repo/refs" "$repo/blobs" "$repo/snapshots/$commit"
printf '%s' "$commit" > "$repo/refs/main"
printf '%s' "$commit" > "$repo/refs/v1"
for file in config.json model.safetensors; do
  cp "$model/$file" "$repo/blobs/$file.blob"
  ln -s "../../blobs/$file.blob" "$repo/snapshots/$commit/$file"
done

for id in test-org/tiny-dense test-org/tiny-dense@v1 "test-org/tiny-dense@$commit"; do
  out=$(HF_HUB_CACHE=$cache "$hearth" generate --model "$id" --prompt-tokens 1,2,3 --max-tokens 4 2>&1)
  grep -q "^decode: " <<<"$out" || { echo "FAIL: $id did not generate:"; echo "$out"; exit 1; }
done
# A revision the cache lacks: a clear error that lists what is there, and a failing exit status.
if out=$(HF_HUB_CACHE=$cache "$hearth" generate --model test-org/tiny-dense@dev --prompt-tokens 1 2>&1); then
  echo "FAIL: an unknown revision was accepted"; exit 1
fi
grep -q "no revision 'dev' in the cache .*has: main, v1" <<<"$out" || { echo "FAIL: unexpected error: $out"; exit 1; }
# Not in the cache at all: named, with how to get it.
if out=$(HF_HUB_CACHE=$cache "$hearth" generate --model test-org/missing --prompt-tokens 1 2>&1); then
  echo "FAIL: a missing repository was accepted"; exit 1
fi
grep -q "test-org/missing is not in the Hugging Face cache" <<<"$out" || { echo "FAIL: unexpected error: $out"; exit 1; }
echo "ok"
