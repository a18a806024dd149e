// npy-compare GOLDEN.npy OURS.npy [--rtol R | --min-cosine C]: compares
// float32 logit matrices of equal shape. Prints the largest |ours - golden|
// relative to the largest |golden|, the smallest and mean cosine similarity
// of rows, and the row-wise argmax (top-1) agreement; exits 1 when the
// relative error is above R (default 1e-4) or, with --min-cosine, when a
// row's cosine similarity is below C.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Matrix {
  long rows = 0, cols = 0;
  std::vector<float> data;
};

bool readNpy(const char *path, Matrix &m) {
  std::ifstream in(path, std::ios::binary);
  char pre[10];
  if (!in.read(pre, 10) || std::memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] != 1) {
    std::fprintf(stderr, "npy-compare: %s: not a version 1 .npy file\n", path);
    return false;
  }
  size_t len = (unsigned char)pre[8] | (size_t((unsigned char)pre[9]) << 8);
  std::string header(len, ' ');
  in.read(&header[0], long(len));
  if (header.find("'<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos) {
    std::fprintf(stderr, "npy-compare: %s: needs little-endian float32 in C order\n", path);
    return false;
  }
  size_t s = header.find("'shape': (");
  if (s == std::string::npos || std::sscanf(header.c_str() + s + 10, "%ld, %ld", &m.rows, &m.cols) != 2) {
    std::fprintf(stderr, "npy-compare: %s: needs a 2-D shape\n", path);
    return false;
  }
  m.data.resize(size_t(m.rows * m.cols));
  if (!in.read(reinterpret_cast<char *>(m.data.data()), long(m.data.size() * 4))) {
    std::fprintf(stderr, "npy-compare: %s: truncated data\n", path);
    return false;
  }
  return true;
}

long argmax(const float *row, long n) {
  long best = 0;
  for (long i = 1; i < n; ++i)
    if (row[i] > row[best])
      best = i;
  return best;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: npy-compare GOLDEN.npy OURS.npy [--rtol R | --min-cosine C] [--rows FIRST:END]\n"
                         "  --rows: compare the golden with rows [FIRST, END) of ours (a golden of the last\n"
                         "  positions of a long sequence)\n");
    return 2;
  }
  double rtol = 1e-4, minCosine = -1;
  long first = -1, end = -1;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rtol"))
      rtol = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--min-cosine"))
      minCosine = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rows") && std::sscanf(argv[i + 1], "%ld:%ld", &first, &end) == 2) {
    } else {
      std::fprintf(stderr, "npy-compare: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  Matrix g, o;
  if (!readNpy(argv[1], g) || !readNpy(argv[2], o))
    return 2;
  if (first >= 0) {
    if (first > end || end > o.rows) {
      std::fprintf(stderr, "npy-compare: --rows %ld:%ld outside ours' %ld rows\n", first, end, o.rows);
      return 1;
    }
    o.data.erase(o.data.begin() + end * o.cols, o.data.end());
    o.data.erase(o.data.begin(), o.data.begin() + first * o.cols);
    o.rows = end - first;
  }
  if (g.rows != o.rows || g.cols != o.cols) {
    std::fprintf(stderr, "npy-compare: shapes differ: golden [%ld, %ld], ours [%ld, %ld]\n",
                 g.rows, g.cols, o.rows, o.cols);
    return 1;
  }
  double maxAbs = 0, maxDiff = 0;
  long agree = 0;
  for (size_t i = 0; i < g.data.size(); ++i) {
    maxAbs = std::fmax(maxAbs, std::fabs(double(g.data[i])));
    maxDiff = std::fmax(maxDiff, std::fabs(double(g.data[i]) - double(o.data[i])));
  }
  double cosMin = 1, cosSum = 0;
  for (long r = 0; r < g.rows; ++r) {
    const float *gr = &g.data[size_t(r * g.cols)], *orow = &o.data[size_t(r * o.cols)];
    agree += argmax(gr, g.cols) == argmax(orow, o.cols);
    double dot = 0, gg = 0, oo = 0;
    for (long c = 0; c < g.cols; ++c) {
      dot += double(gr[c]) * orow[c];
      gg += double(gr[c]) * gr[c];
      oo += double(orow[c]) * orow[c];
    }
    double cos = (gg > 0 && oo > 0) ? dot / std::sqrt(gg * oo) : (gg == oo ? 1.0 : 0.0);
    cosMin = std::fmin(cosMin, cos);
    cosSum += cos;
  }
  double rel = maxAbs > 0 ? maxDiff / maxAbs : maxDiff;
  bool ok = minCosine >= 0 ? cosMin >= minCosine : rel <= rtol && std::isfinite(rel);
  std::printf("rows %ld, max |diff| %.3g, max |golden| %.4g, relative %.3g, cosine min %.6f mean %.6f, "
              "argmax agrees %ld/%ld: %s\n",
              g.rows, maxDiff, maxAbs, rel, cosMin, cosSum / double(g.rows), agree, g.rows,
              ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
