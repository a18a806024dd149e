//===- Progress.cpp - what a long compile is doing ------------------------===//
#include "compiler/support/Progress.h"

#include <unistd.h>

namespace qwenc {

Progress::Progress(bool enabled, std::FILE *out)
    : enabled_(enabled), tty_(enabled && isatty(fileno(out))), out_(out) {}

void Progress::begin(const std::string &stage) {
  end();
  stage_ = stage;
  open_ = true;
  start_ = lastDraw_ = std::chrono::steady_clock::now();
  if (tty_) {
    std::fprintf(out_, "\rqwenc: %s ...\033[K", stage_.c_str());
    std::fflush(out_);
  }
}

void Progress::update(uint64_t done, uint64_t total, bool items) {
  if (!tty_ || !open_ || total == 0)
    return;
  auto now = std::chrono::steady_clock::now();
  if (done < total && now - lastDraw_ < std::chrono::milliseconds(100))
    return; // a terminal needs no more than ten frames a second
  lastDraw_ = now;
  done = done < total ? done : total;
  constexpr int kWidth = 30;
  int filled = int(kWidth * done / total);
  std::string bar(size_t(filled), '#');
  bar.append(size_t(kWidth - filled), '.');
  if (items)
    std::fprintf(out_, "\rqwenc: %s [%s] %llu of %llu\033[K", stage_.c_str(), bar.c_str(),
                 (unsigned long long)done, (unsigned long long)total);
  else
    std::fprintf(out_, "\rqwenc: %s [%s] %3d%% of %.1f MB\033[K", stage_.c_str(), bar.c_str(),
                 int(100 * done / total), total / 1e6);
  std::fflush(out_);
}

void Progress::end(const std::string &detail) {
  if (!open_)
    return;
  open_ = false;
  if (!enabled_)
    return;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(out_, "%sqwenc: %s%s%s (%.1f s)\n", tty_ ? "\r\033[K" : "", stage_.c_str(), detail.empty() ? "" : ": ",
               detail.c_str(), secs);
  std::fflush(out_);
}

void Progress::abandon() {
  if (open_ && tty_) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }
  open_ = false;
}

} // namespace qwenc
