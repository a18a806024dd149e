#!/usr/bin/env bash
# Builds qwenc with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan/ and runs the unit tests, the fuzz corpora and the end-to-end
# tests there: every model those tests compile is sanitized too. Any report
# fails the run (-fno-sanitize-recover, halt_on_error).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -f build-asan/build.ninja ] || cmake -G Ninja -S . -B build-asan -DQWENC_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1"
mapfile -t fuzzers < <(ls test/fuzz/corpus) # every harness has a seed corpus folder of its name
ninja -C build-asan qwenc qwenc-opt qwenc-kernelgen qwenc-halide-runtime qwenc-unittests qwenc-avx2-kernel-tests \
  checkpoint-tool tokenizer-tool npy-compare "${fuzzers[@]}"
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
build-asan/bin/qwenc-unittests --gtest_brief=1
build-asan/bin/qwenc-avx2-kernel-tests --gtest_brief=1
for f in "${fuzzers[@]}"; do
  build-asan/bin/$f test/fuzz/corpus/$f
done
# The end-to-end tests of the portable target, the frontend, the driver and
# the IR; the x86 kernels' tests run in the ordinary build. The server's
# tests (client, garbage, load, structured output) run a sanitized server
# that checks for leaks as it stops; the page test adds only the browser.
python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv build-asan/test \
  --filter 'dialect/|passes/|frontend/|compiler/|e2e/(chat|standalone|runtime-errors|base-model|temperature-zero|fidelity-micro|sharded-and-f16|quantized-fidelity)|server/server'
