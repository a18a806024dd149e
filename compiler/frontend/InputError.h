//===- InputError.h - one error type for bad model input --------*- C++ -*-===//
#ifndef QWENC_FRONTEND_INPUTERROR_H
#define QWENC_FRONTEND_INPUTERROR_H

#include <stdexcept>
#include <string>

namespace qwenc {

/// Raised for anything wrong with the user's input. The message always names
/// the file, so the driver prints it as is and exits non-zero.
class InputError : public std::runtime_error {
public:
  InputError(const std::string &file, const std::string &problem)
      : std::runtime_error(file + ": " + problem) {}
};

} // namespace qwenc
#endif
