// Writes float32 matrices as NumPy .npy files (format version 1.0), rows
// appended as they come; the header is rewritten with the final row count.
#ifndef QWENC_NPY_H
#define QWENC_NPY_H

#include <cstdio>
#include <string>

namespace qwenc_rt {

class NpyWriter {
public:
  bool open(const std::string &path, int columns);
  bool append_rows(const float *data, int rows);
  bool close(); // writes the final shape; returns false on any I/O error
  ~NpyWriter();

private:
  bool write_header();
  std::FILE *file_ = nullptr;
  int columns_ = 0;
  long rows_ = 0;
  bool ok_ = true;
};

} // namespace qwenc_rt
#endif
