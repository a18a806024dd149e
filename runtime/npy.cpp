#include "npy.h"

#include <cstring>

namespace qwenc_rt {

namespace {
constexpr size_t kHeaderBytes = 128; // magic + version + length + padded dict
}

bool NpyWriter::open(const std::string &path, int columns) {
  file_ = std::fopen(path.c_str(), "wb");
  columns_ = columns;
  rows_ = 0;
  ok_ = file_ != nullptr;
  return ok_ && write_header();
}

bool NpyWriter::write_header() {
  char dict[kHeaderBytes];
  std::memset(dict, ' ', sizeof dict);
  int n = std::snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%ld, %d), }",
                        rows_, columns_);
  dict[n] = ' ';
  const size_t dictLen = kHeaderBytes - 10;
  dict[dictLen - 1] = '\n';
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                           (unsigned char)(dictLen & 0xff), (unsigned char)(dictLen >> 8)};
  ok_ = ok_ && std::fseek(file_, 0, SEEK_SET) == 0 && std::fwrite(pre, 1, 10, file_) == 10 &&
        std::fwrite(dict, 1, dictLen, file_) == dictLen && std::fseek(file_, 0, SEEK_END) == 0;
  return ok_;
}

bool NpyWriter::append_rows(const float *data, int rows) {
  size_t count = size_t(rows) * columns_;
  ok_ = ok_ && std::fwrite(data, sizeof(float), count, file_) == count;
  rows_ += rows;
  return ok_;
}

bool NpyWriter::close() {
  if (!file_)
    return false;
  write_header();
  ok_ = (std::fclose(file_) == 0) && ok_;
  file_ = nullptr;
  return ok_;
}

NpyWriter::~NpyWriter() {
  if (file_)
    std::fclose(file_);
}

} // namespace qwenc_rt
