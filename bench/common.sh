# What the benchmark scripts share (sourced by bench/run and bench/long from
# the project root, with $bench set to the script's name for messages): the
# checkpoint generator, numpy to run it, and reading the executables' timings.
synth=${QWENC_SYNTH:-$PWD/../shared/models/synth_qwen2.py}
[ -f "$synth" ] || { echo "$bench: no checkpoint generator at $synth (set QWENC_SYNTH)" >&2; exit 1; }
dpkg-query -W -f='${Status}' python3-numpy 2>/dev/null | grep -q "install ok installed" || {
  [ "$(id -u)" -eq 0 ] || { echo "$bench: install python3-numpy (as root)" >&2; exit 1; }
  apt-get install -y -q python3-numpy >/dev/null; }

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
higher() { awk -v a="$1" -v b="$2" 'BEGIN {print (a > b ? a : b)}'; }
# tok/s of "prefill" or "decode" in an executable's last stderr line.
rate() { sed -n "s/.*$1: [0-9]* tokens in [0-9.]* s (\([0-9.]*\) tok\/s).*/\1/p"; }
