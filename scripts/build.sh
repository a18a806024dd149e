#!/usr/bin/env bash
# Configures (once) and builds qwenc into build/ with ninja.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release
ninja -C build
