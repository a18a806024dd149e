#!/usr/bin/env bash
# An installed qwenc works from anywhere, without its build tree: installs
# build/ to a temporary prefix and builds the Debian package, moves build/
# away, then compiles and runs a model with each (the package installed with
# dpkg when run as root, and removed afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
tmp=$(mktemp -d)
restore() {
  [ -d "$tmp/build" ] && mv "$tmp/build" "$src/build"
  if [ -n "${installed_deb:-}" ]; then dpkg -r qwenc >/dev/null || true; fi
  rm -rf "$tmp"
}
trap restore EXIT
cmake --install build --prefix "$tmp/prefix" >/dev/null
(cd build && cpack -G DEB -B "$tmp/deb" >/dev/null)
deb=$(ls "$tmp"/deb/qwenc_*.deb)
cp -r examples/models/micro-f32 "$tmp/model"
mv build "$tmp/build"

# Ids of examples/models/micro-f32, greedy (test/e2e/standalone.test).
want=1734,1154,298,34
passed=0
check() { # QWENC: compile for each target from another folder, run, compare
  local qwenc=$1 where=$2
  "$qwenc" --version
  for target in cpp x86-64-avx2 aarch64 ax630c; do
    # ax630c: an emulated bundle (a folder), its host program run under qemu.
    extra=() exe="$tmp/model-$target"
    [ "$target" = ax630c ] && extra=(--emulate) exe="$tmp/model-$target/qwen2"
    (cd "$tmp" && "$qwenc" compile model --target "$target" "${extra[@]}" -o "model-$target" -v 2>"$tmp/log")
    # Nothing of the source or build tree is used: every path is the install's or the system's.
    if grep -F -e "$src" "$tmp/log"; then echo "test-install: $where used the source tree" >&2; exit 1; fi
    run=()
    [ "$target" = aarch64 ] || [ "$target" = ax630c ] && run=(qemu-aarch64 -cpu cortex-a53)
    got=$("${run[@]}" "$exe" --greedy --max-new 4 --prompt-ids 1935,1280,1401,1837,1184,1588,1707 2>/dev/null)
    [ "$got" = "$want" ] || { echo "test-install: $where --target $target gave $got, not $want" >&2; exit 1; }
    echo "ok   $where --target $target"
    passed=$((passed + 1))
  done
}
check "$tmp/prefix/bin/qwenc" "cmake --install prefix"
if [ "$(id -u)" -eq 0 ]; then
  dpkg-deb -f "$deb" Depends
  dpkg -i "$deb" >/dev/null
  installed_deb=1
  check /usr/bin/qwenc "dpkg -i $(basename "$deb")"
else
  echo "skip dpkg -i (not root)"
fi
echo "install: $passed passed, 0 failed"
