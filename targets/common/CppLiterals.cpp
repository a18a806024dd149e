//===- CppLiterals.cpp - values written into generated C++ ----------------===//
#include "targets/common/CppLiterals.h"

#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace qwenc {
namespace {

/// printf's %g may print an integer ("1", "-3"); C++ reads that as an int,
/// and "1f" is no literal at all.
std::string withPoint(const char *digits) {
  std::string s = digits;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s;
}

} // namespace

std::string cppDoubleLiteral(double v) {
  assert(std::isfinite(v) && "non-finite values are refused at import");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return withPoint(buf);
}

std::string cppFloatLiteral(double v) {
  assert(std::isfinite(float(v)) && "non-finite values are refused at import");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", double(float(v)));
  return withPoint(buf) + "f";
}

std::string cppStringLiteral(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += char(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    }
  }
  return out + "\"";
}

} // namespace qwenc
