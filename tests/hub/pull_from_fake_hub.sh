#!/usr/bin/env bash
# `hearth pull` end to end against a fake hub (fake_hub.mjs) serving a tiny test model: the cache
# layout huggingface_hub writes, a dropped connection resumed with a Range request, a partial file
# from an earlier run continued, a corrupted file refused, a missing revision and an unreachable hub
# named clearly, and the pulled model generating through `--model ORG/NAME`.
# Usage: pull_from_fake_hub.sh HEARTH_BIN TINY_MODEL_DIR
set -euo pipefail
hearth=$1
model=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

commit=89abcdef0123456789abcdef0123456789abcdef
repo_files=$work/hub/test-org/tiny-dense/files
mkdir -p "$repo_files/extra"
cp "$model/config.json" "$model/model.safetensors" "$repo_files/"
printf 'a small file in a subfolder\n' > "$repo_files/extra/notes.txt"
cp "$model/config.json" "$repo_files/extra/same-as-config.json"  # one blob, two paths: fetched once
printf '{"main": "%s", "v1": "%s"}\n' "$commit" "$commit" > "$work/hub/test-org/tiny-dense/revisions.json"

start_hub() {  # start_hub [faults...]: sets $endpoint, logs to $work/log
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -f "$work/port"
  node "$here/fake_hub.mjs" "$work/hub" "$work/port" "$work/log" "$@" &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
  [ -s "$work/port" ] || fail "the fake hub did not start"
  endpoint=http://127.0.0.1:$(cat "$work/port")
}
pull() {  # pull CACHE ARGS...: runs hearth pull, output in $out, status in $status
  local cache=$1; shift
  set +e
  out=$(HF_HUB_CACHE=$cache HF_TOKEN=test-token "$hearth" pull --endpoint "$endpoint" "$@" 2>&1)
  status=$?
  set -e
}
sha256() { sha256sum "$1" | cut -d' ' -f1; }
lfs_sha=$(sha256 "$model/model.safetensors")

# 1. A fresh pull whose first transfer of the weights breaks after 300000 bytes: retried with a Range.
start_hub --drop-after 300000
cache=$work/cache1
pull "$cache" test-org/tiny-dense
[ "$status" -eq 0 ] || fail "pull failed: $out"
repo=$cache/models--test-org--tiny-dense
[ "$(cat "$repo/refs/main")" = "$commit" ] || fail "refs/main does not hold the commit"
for f in config.json model.safetensors extra/notes.txt extra/same-as-config.json; do
  link=$repo/snapshots/$commit/$f
  [ -L "$link" ] || fail "$f is not a symbolic link in the snapshot"
  case "$(readlink "$link")" in ../../blobs/*|../../../blobs/*) ;; *) fail "$f links to $(readlink "$link")";; esac
  cmp -s "$link" "$repo_files/$f" || fail "$f differs from the hub's"
done
[ "$(readlink "$repo/snapshots/$commit/model.safetensors")" = "../../blobs/$lfs_sha" ] || fail "the LFS blob is not named by its sha256"
[ "$(readlink "$repo/snapshots/$commit/extra/notes.txt")" = "../../../blobs/$(git hash-object "$repo_files/extra/notes.txt")" ] ||
  fail "a small file's blob is not named by its git blob id"
grep -q "GET /cdn/test-org/tiny-dense/model.safetensors range=bytes=300000-" "$work/log" || fail "no Range request after the drop: $(cat "$work/log")"
grep -q "retrying from" <<<"$out" || fail "the retry was not reported: $out"
grep -q "auth=Bearer test-token" "$work/log" || fail "HF_TOKEN was not sent"
[ "$(readlink -f "$repo/snapshots/$commit/config.json")" = "$(readlink -f "$repo/snapshots/$commit/extra/same-as-config.json")" ] ||
  fail "two paths with the same content do not share their blob"
[ "$(grep -c "resolve/$commit/\(config.json\|extra/same-as-config.json\) " "$work/log")" = 1 ] ||
  fail "a blob shared by two paths was downloaded twice: $(cat "$work/log")"
ls "$repo/blobs" | grep -q incomplete && fail "a partial file was left behind"
grep -q "^$repo/snapshots/$commit\$" <<<"$out" || fail "the snapshot path was not printed: $out"

# 2. Pulling again downloads nothing.
: > "$work/log"
pull "$cache" test-org/tiny-dense@v1
[ "$status" -eq 0 ] || fail "second pull failed: $out"
grep -q "resolve\|/cdn/" "$work/log" && fail "files were downloaded again: $(cat "$work/log")"
grep -q "0 file(s) downloaded.*4 already present" <<<"$out" || fail "unexpected summary: $out"
[ "$(cat "$repo/refs/v1")" = "$commit" ] || fail "refs/v1 was not written"

# 3. A partial blob from an interrupted run continues where it stopped.
rm "$repo/blobs/$lfs_sha"
head -c 500000 "$model/model.safetensors" > "$repo/blobs/$lfs_sha.incomplete"
: > "$work/log"
pull "$cache" test-org/tiny-dense
[ "$status" -eq 0 ] || fail "resumed pull failed: $out"
grep -q "model.safetensors range=bytes=500000-" "$work/log" || fail "the partial file was not continued: $(cat "$work/log")"
grep -q "continuing at" <<<"$out" || fail "the resumption was not reported: $out"
cmp -s "$repo/snapshots/$commit/model.safetensors" "$model/model.safetensors" || fail "the resumed file differs"

# 4. A server that ignores Range: the partial file starts over and still checks out.
start_hub --ignore-range
rm "$repo/blobs/$lfs_sha"
head -c 500000 "$model/model.safetensors" > "$repo/blobs/$lfs_sha.incomplete"
pull "$cache" test-org/tiny-dense
[ "$status" -eq 0 ] || fail "pull from a server without ranges failed: $out"
cmp -s "$repo/snapshots/$commit/model.safetensors" "$model/model.safetensors" || fail "the restarted file differs"

# 5. A file whose bytes do not match the metadata's sha256 is refused and removed; no ref is written.
start_hub --corrupt model.safetensors
cache=$work/cache2
pull "$cache" test-org/tiny-dense
[ "$status" -ne 0 ] || fail "a corrupted file was accepted"
grep -q "model.safetensors: sha256 [0-9a-f]* does not match the hub's $lfs_sha" <<<"$out" || fail "unexpected error: $out"
repo=$cache/models--test-org--tiny-dense
[ -e "$repo/blobs/$lfs_sha" ] && fail "the corrupted blob was kept"
[ -e "$repo/blobs/$lfs_sha.incomplete" ] && fail "the corrupted partial file was kept"
[ -e "$repo/refs/main" ] && fail "refs/main was written for an incomplete snapshot"

# 6. A revision the hub does not have, and a repository it does not have.
pull "$cache" test-org/tiny-dense@nope
[ "$status" -ne 0 ] || fail "an unknown revision was accepted"
grep -q "test-org/tiny-dense has no revision 'nope'" <<<"$out" || fail "unexpected error: $out"
pull "$cache" test-org/missing
[ "$status" -ne 0 ] || fail "an unknown repository was accepted"
grep -q "test-org/missing was not found on the hub" <<<"$out" || fail "unexpected error: $out"

# 7. No hub at all: an offline error that says so.
set +e
out=$(HF_HUB_CACHE=$cache "$hearth" pull --endpoint http://127.0.0.1:9 test-org/tiny-dense 2>&1)
status=$?
set -e
[ "$status" -ne 0 ] || fail "an unreachable hub was not an error"
grep -q "cannot reach the Hugging Face hub at http://127.0.0.1:9 (.*could not connect.*Offline?" <<<"$out" || fail "unexpected error: $out"
out=$(HF_HUB_OFFLINE=1 HF_HUB_CACHE=$cache "$hearth" pull test-org/tiny-dense 2>&1) && fail "HF_HUB_OFFLINE was ignored"
grep -q "HF_HUB_OFFLINE is set" <<<"$out" || fail "unexpected error: $out"

# 8. The pulled model runs by its repository id.
out=$(HF_HUB_CACHE=$work/cache1 "$hearth" generate --model test-org/tiny-dense --prompt-tokens 1,2,3 --max-tokens 4 2>&1) ||
  fail "generate on the pulled model failed: $out"
grep -q "^decode: " <<<"$out" || fail "generate did not decode: $out"
echo "ok"
