// The weight blob appended to a compiled executable.
//
// Layout of the executable file: [program][padding][blob][trailer], where the
// 32-byte trailer is: magic "QWENCWT1", u64 blob offset, u64 blob size,
// u64 format version (1), all little-endian.
#ifndef QWENC_WEIGHTS_H
#define QWENC_WEIGHTS_H

#include <cstddef>
#include <cstdint>

namespace qwenc_rt {

constexpr char kWeightsMagic[8] = {'Q', 'W', 'E', 'N', 'C', 'W', 'T', '1'};
constexpr uint64_t kWeightsVersion = 1;
constexpr size_t kWeightsTrailerBytes = 32;
constexpr size_t kWeightsAlignment = 4096; // blob offset: page aligned for mmap

/// Maps the running executable and returns its weight blob, or prints an
/// error naming the executable and returns nullptr.
const uint8_t *map_own_weights(uint64_t expected_bytes);

} // namespace qwenc_rt
#endif
