#!/usr/bin/env bash
# Runs every test: unit (GoogleTest), fuzz corpora and lit (IR, frontend,
# end-to-end against the golden outputs) through ctest; then the installed
# compiler and its Debian package; then the same tests under the sanitizers.
# Installs and builds first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2
# An installed qwenc and its Debian package, without the build tree.
bash scripts/test-install.sh
# Unit, fuzz-corpus and end-to-end tests under AddressSanitizer + UBSan
# (their own build, build-asan/).
bash scripts/test-sanitizers.sh
