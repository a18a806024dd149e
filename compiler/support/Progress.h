//===- Progress.h - what a long compile is doing -----------------*- C++ -*-===//
//
// A compile of a real model takes tens of seconds: each stage says what it
// did and how long it took, one line each. On a terminal, the stage at work
// shows a bar (bytes) or a count (kernels) that updates in place.
//
//===----------------------------------------------------------------------===//
#ifndef QWENC_SUPPORT_PROGRESS_H
#define QWENC_SUPPORT_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace qwenc {

class Progress {
public:
  /// Silent when !enabled (-q); redraws in place only when `out` is a terminal.
  explicit Progress(bool enabled, std::FILE *out = stderr);
  ~Progress() { abandon(); }

  /// Starts a stage (and ends the one before): "read", "pack weights", ...
  void begin(const std::string &stage);
  /// Work done in the stage so far: `done` of `total` bytes, or of `total`
  /// items with `items` (kernels). Only a terminal sees these.
  void update(uint64_t done, uint64_t total, bool items = false);
  /// Ends the stage: "qwenc: STAGE: DETAIL (1.2 s)".
  void end(const std::string &detail = "");
  /// Drops the stage without a line (an error is about to be reported).
  void abandon();

private:
  bool enabled_, tty_;
  std::FILE *out_;
  std::string stage_;
  bool open_ = false;
  std::chrono::steady_clock::time_point start_, lastDraw_;
};

} // namespace qwenc
#endif
