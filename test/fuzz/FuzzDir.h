// The fuzz harnesses feed qwenc's real file readers: each input is written to
// a file in one scratch directory (in /dev/shm where there is one) and read
// back through the same entry points `qwenc` uses.
#ifndef QWENC_TEST_FUZZ_FUZZDIR_H
#define QWENC_TEST_FUZZ_FUZZDIR_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace qwenc::fuzz {

inline const std::string &scratchDir() {
  static const std::string dir = [] {
    struct stat st;
    std::string templ = (::stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp") + std::string("/qwenc-fuzz-XXXXXX");
    if (!mkdtemp(templ.data())) {
      std::perror("qwenc fuzz: mkdtemp");
      std::abort();
    }
    return templ;
  }();
  return dir;
}

inline void writeFile(const std::string &name, const uint8_t *data, size_t size) {
  std::string path = scratchDir() + "/" + name;
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

inline void writeFile(const std::string &name, const std::string &text) {
  writeFile(name, reinterpret_cast<const uint8_t *>(text.data()), text.size());
}

inline void removeFile(const std::string &name) { ::unlink((scratchDir() + "/" + name).c_str()); }

} // namespace qwenc::fuzz
#endif
