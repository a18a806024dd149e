#include "weights.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qwenc_rt {

const uint8_t *map_own_weights(uint64_t expected_bytes) {
  const char *self = "/proc/self/exe";
  int fd = ::open(self, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::fprintf(stderr, "error: cannot open own executable %s: %s\n", self, std::strerror(errno));
    return nullptr;
  }
  uint8_t trailer[kWeightsTrailerBytes];
  uint64_t size = uint64_t(st.st_size);
  if (size < kWeightsTrailerBytes ||
      ::pread(fd, trailer, sizeof trailer, off_t(size - sizeof trailer)) != ssize_t(sizeof trailer) ||
      std::memcmp(trailer, kWeightsMagic, 8) != 0) {
    std::fprintf(stderr, "error: this executable carries no qwenc weights (was it stripped or "
                         "truncated after `qwenc compile`?)\n");
    ::close(fd);
    return nullptr;
  }
  uint64_t fields[3];
  std::memcpy(fields, trailer + 8, sizeof fields);
  const uint64_t offset = fields[0], bytes = fields[1], version = fields[2];
  if (version != kWeightsVersion || bytes != expected_bytes || offset % kWeightsAlignment ||
      offset > size || bytes > size - offset - kWeightsTrailerBytes) {
    std::fprintf(stderr, "error: this executable's weight blob is damaged (%llu bytes at %llu, "
                         "expected %llu bytes)\n",
                 (unsigned long long)bytes, (unsigned long long)offset,
                 (unsigned long long)expected_bytes);
    ::close(fd);
    return nullptr;
  }
  // MAP_POPULATE: every page mapped now, at load, as llama.cpp does; left to
  // fault in on first use, the first forward pass (the prompt) paid for it.
  // An empty blob (a device target's program without a tokenizer) is a
  // valid one: a non-null pointer to nothing.
  static const uint8_t kEmpty[1] = {0};
  void *p = bytes ? ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, off_t(offset))
                  : const_cast<uint8_t *>(kEmpty);
  ::close(fd);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "error: cannot memory-map the weights: %s\n", std::strerror(errno));
    return nullptr;
  }
  return static_cast<const uint8_t *>(p);
}

} // namespace qwenc_rt
