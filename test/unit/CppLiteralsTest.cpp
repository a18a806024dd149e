// The literal writers of generated code: every shape a JSON number takes
// prints as a literal of the right C++ type that reads back as the value.
#include "targets/common/CppLiterals.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace qwenc;

namespace {

TEST(CppLiterals, DoubleAlwaysHasAPointOrExponent) {
  EXPECT_EQ(cppDoubleLiteral(1.0), "1.0");
  EXPECT_EQ(cppDoubleLiteral(-3.0), "-3.0");
  EXPECT_EQ(cppDoubleLiteral(0.0), "0.0");
  EXPECT_EQ(cppDoubleLiteral(1000000.0), "1000000.0");
  EXPECT_EQ(cppDoubleLiteral(1e6), "1000000.0");
  EXPECT_EQ(cppDoubleLiteral(1e300), "1.0000000000000001e+300");
  EXPECT_EQ(cppDoubleLiteral(0.5), "0.5");
  for (double v : {1e-6, 1e-5, 0.7, 0.8, 1.05, 1e6, 10000.0, 1.0 / 3, 5e-324, 1.7976931348623157e308}) {
    std::string s = cppDoubleLiteral(v);
    EXPECT_NE(s.find_first_of(".e"), std::string::npos) << s;
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
  }
}

TEST(CppLiterals, FloatIsAFloatLiteral) {
  EXPECT_EQ(cppFloatLiteral(1.0), "1.0f");
  EXPECT_EQ(cppFloatLiteral(1), "1.0f");
  EXPECT_EQ(cppFloatLiteral(0.0), "0.0f");
  EXPECT_EQ(cppFloatLiteral(2048.0), "2048.0f");
  EXPECT_EQ(cppFloatLiteral(1e-06), "9.99999997e-07f");
  EXPECT_EQ(cppFloatLiteral(1e20), "1.00000002e+20f");
  for (double v : {0.7, 0.8, 1.05, 1e-6, 100.0, 3.4e38}) {
    std::string s = cppFloatLiteral(v);
    ASSERT_EQ(s.back(), 'f') << s;
    EXPECT_NE(s.find_first_of(".e"), std::string::npos) << s;
    EXPECT_EQ(std::strtof(s.c_str(), nullptr), float(v)) << s;
  }
}

TEST(CppLiterals, StringEscapesEverythingOutsidePrintableAscii) {
  EXPECT_EQ(cppStringLiteral("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(cppStringLiteral("\n\xe4"), "\"\\012\\344\"");
  // An octal escape takes at most three digits, so a digit after one is safe.
  EXPECT_EQ(cppStringLiteral("\x01" "1"), "\"\\0011\"");
}

} // namespace
