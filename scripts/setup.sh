#!/usr/bin/env bash
# One command from a fresh clone: dependencies, build, then compile the
# example model into one executable and run it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/bin/qwenc compile examples/models/micro-f32 --target cpp -o build/qwen-micro
echo "== build/qwen-micro --greedy --max-new 16 --prompt-ids 1935,1280,1401,1837,1184,1588,1707"
build/qwen-micro --greedy --max-new 16 --prompt-ids 1935,1280,1401,1837,1184,1588,1707
