//===- ArenaPlanner.h - compile-time placement of activations --*- C++ -*-===//
//
// Every activation of a forward step gets an offset in one arena, planned
// from the SSA values' live ranges, so that generating allocates nothing.
//===----------------------------------------------------------------------===//
#ifndef QWENC_TARGETS_COMMON_ARENAPLANNER_H
#define QWENC_TARGETS_COMMON_ARENAPLANNER_H

#include <algorithm>
#include <cstdint>
#include <map>

namespace qwenc {

/// First-fit placement of activation buffers by live range.
class ArenaPlanner {
public:
  /// Places a buffer of `size` floats that is live from now on.
  uint64_t allocate(uint64_t size) {
    uint64_t offset = 0;
    for (auto &[start, len] : live) { // sorted by start
      if (offset + size <= start)
        break;
      offset = std::max(offset, start + len);
    }
    live.insert({offset, size});
    peak = std::max(peak, offset + size);
    return offset;
  }
  void release(uint64_t offset) { live.erase(offset); }
  uint64_t peakFloats() const { return peak; }

private:
  std::map<uint64_t, uint64_t> live; // start -> size
  uint64_t peak = 0;
};

} // namespace qwenc
#endif
