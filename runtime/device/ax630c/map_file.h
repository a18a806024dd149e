// A whole file mapped read-only, as the AX630C host program, the emulated
// engine and axmodel-info read model files and checkpoints. The mapping is
// kept for the process (an engine may keep pointers into it).
#ifndef QWENC_AX630C_MAP_FILE_H
#define QWENC_AX630C_MAP_FILE_H

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qwenc_rt::ax630c {

/// The file's bytes and size, or null with `error` = "PATH: why".
inline const void *map_file(const std::string &path, size_t &size, std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    error = path + ": not a regular file";
    return nullptr;
  }
  size = size_t(st.st_size);
  void *p = size ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (p == MAP_FAILED) {
    error = path + (size ? ": cannot be mapped" : ": empty");
    return nullptr;
  }
  return p;
}

} // namespace qwenc_rt::ax630c
#endif
