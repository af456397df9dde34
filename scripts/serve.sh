#!/usr/bin/env bash
# The README's run command: installs dependencies, builds, and starts the server. With no --model it
# serves the built-in demo model (random weights, real tokenizer); pass hearth serve's flags through.
# Builds the server binary alone: the tests are scripts/test.sh's job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh hearth
exec build/src/app/hearth serve "$@"
