#!/usr/bin/env bash
# Fuzzes qwenc's parsers of user input with libFuzzer (clang-19, ASan + UBSan):
#   scripts/fuzz.sh [SECONDS] [HARNESS...]    default: 60 seconds each, every harness
# Each harness starts from its checked-in seeds (test/fuzz/corpus/NAME) and
# keeps what it learns in build-fuzz/corpus/NAME; a crash, hang or huge
# allocation leaves its input in build-fuzz/artifacts/NAME: copy it into the
# seed corpus, where the ordinary test run replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
scripts/install-deps.sh
for p in clang-19 libclang-rt-19-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ -n "${missing[*]:-}" ]; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
flags="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
[ -f build-fuzz/build.ninja ] || cmake -G Ninja -S . -B build-fuzz -DQWENC_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
ninja -C build-fuzz
harnesses=("$@")
# Every harness has a seed corpus folder of its name.
[ ${#harnesses[@]} -gt 0 ] || mapfile -t harnesses < <(ls test/fuzz/corpus)
printf '%-24s %8s %12s %10s %8s %8s  %s\n' harness seconds executions exec/s cov ft found
for h in "${harnesses[@]}"; do
  mkdir -p "build-fuzz/corpus/$h" "build-fuzz/artifacts/$h"
  log="build-fuzz/$h.log"
  # -rss_limit_mb and -malloc_limit_mb make a huge allocation a finding;
  # -timeout makes a hang one (25 s: inputs take milliseconds, but a shared
  # machine can stall a process for seconds).
  dict=test/fuzz/json.dict # the HTTP parser has its own tokens
  [ "$h" != fuzz_http ] || dict=test/fuzz/http.dict
  set +e
  "build-fuzz/bin/$h" "build-fuzz/corpus/$h" "test/fuzz/corpus/$h" -dict="$dict" \
    -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$h/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  found=$(ls "build-fuzz/artifacts/$h" | wc -l)
  printf '%-24s %8s %12s %10s %8s %8s  %s\n' "$h" "$seconds" "$execs" "$rate" "$cov" "$ft" \
    "$([ $rc -eq 0 ] && echo "$found" || echo "$found (exit $rc: see $log)")"
done
