# Cross-compiling for aarch64 Linux with Debian's g++-aarch64-linux-gnu; the
# arm64 libraries are Debian multiarch packages in /usr/lib/aarch64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# No fused multiply-add contraction: the same float results as x86 builds
# (targets/aarch64/Aarch64Target.cpp).
set(CMAKE_CXX_FLAGS_INIT "-ffp-contract=off")
