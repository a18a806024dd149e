#!/usr/bin/env bash
# Runs every test: unit (GoogleTest) and lit (IR, frontend, end-to-end against
# the golden outputs), through ctest. Installs and builds first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2
