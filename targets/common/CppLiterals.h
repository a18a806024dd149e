//===- CppLiterals.h - values written into generated C++ --------*- C++ -*-===//
//
// Every value of the model's configuration that the generated source holds
// goes through these writers, so that each prints as a literal of its C++
// type whatever its shape in the JSON it came from (1, 1.0, 1e-06).
//
//===----------------------------------------------------------------------===//
#ifndef QWENC_TARGETS_CPP_CPPLITERALS_H
#define QWENC_TARGETS_CPP_CPPLITERALS_H

#include <string>

namespace qwenc {

/// A double literal that reads back as exactly `v` ("1.0", "9.9999999999999995e-07").
/// `v` must be finite: the frontend refuses inf and nan.
std::string cppDoubleLiteral(double v);

/// A float literal of `v` rounded to float, reading back as that float ("1.0f", "0.699999988f").
std::string cppFloatLiteral(double v);

/// A string literal with every byte outside printable ASCII escaped.
std::string cppStringLiteral(const std::string &text);

} // namespace qwenc
#endif
