//===- WeightPacking.cpp - weights in the layout the kernels read ---------===//
#include "targets/common/WeightPacking.h"
#include "runtime/int4_layout.h"

#include <cmath>
#include <cstring>
#include <algorithm>
#include <limits>
#include <thread>

namespace qwenc {
namespace {

uint16_t toBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f))
    return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1); // round to nearest even
  return uint16_t(bits >> 16);
}

float fromBF16(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

double snr(double signal, double noise) {
  if (noise == 0.0)
    return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

} // namespace


namespace {

/// Packs row r of t into `q` (its storage) and `scales`; adds the squared
/// weights and squared errors to signal and noise.
void packRow(const TensorRef &t, int64_t r, int64_t cols, Storage storage, int64_t groupSize,
             uint8_t *q, float *scales, double &signal, double &noise) {
  std::vector<float> row(static_cast<size_t>(cols)), deq(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c)
    row[size_t(c)] = t.valueAt(r * cols + c);
  switch (storage) {
  case Storage::F32:
    std::memcpy(q, row.data(), size_t(cols) * 4);
    deq = row;
    break;
  case Storage::BF16:
    for (int64_t c = 0; c < cols; ++c) {
      uint16_t h = toBF16(row[size_t(c)]);
      std::memcpy(q + 2 * c, &h, 2);
      deq[size_t(c)] = fromBF16(h);
    }
    break;
  case Storage::F16: // only ever the checkpoint's own F16: copy the bits
    std::memcpy(q, t.data + 2 * r * cols, size_t(cols) * 2);
    deq = row;
    break;
  case Storage::Int8:
  case Storage::Int4: {
    const bool int8 = storage == Storage::Int8;
    const int64_t g = int8 ? cols : groupSize;
    // int8: q in [-127, 127], scale = max|w| / 127. int4: q in [-8, 7];
    // the scale is the one of max|w| / {6, 6.25, ..., 8} with the least
    // squared error on the group (clipping the largest weight can pay).
    const int qlo = int8 ? -127 : -8, qhi = int8 ? 127 : 7;
    std::vector<int> qv(static_cast<size_t>(cols));
    for (int64_t start = 0; start < cols; start += g) {
      float amax = 0;
      for (int64_t c = start; c < start + g; ++c)
        amax = std::fmax(amax, std::fabs(row[size_t(c)]));
      float best = amax / 127.0f, bestErr = INFINITY;
      for (float d = int8 ? 127.0f : 6.0f; d <= (int8 ? 127.0f : 8.0f); d += 0.25f) {
        const float scale = amax / d, inv = scale > 0 ? 1.0f / scale : 0.0f;
        float err = 0;
        for (int64_t c = start; c < start + g; ++c) {
          long v = std::lrint(row[size_t(c)] * inv);
          v = v > qhi ? qhi : v < qlo ? qlo : v;
          const float e = row[size_t(c)] - float(v) * scale;
          err += e * e;
        }
        if (err < bestErr) {
          bestErr = err;
          best = scale;
        }
      }
      const float inv = best > 0 ? 1.0f / best : 0.0f;
      scales[start / g] = best;
      for (int64_t c = start; c < start + g; ++c) {
        long v = std::lrint(row[size_t(c)] * inv);
        v = v > qhi ? qhi : v < qlo ? qlo : v;
        qv[size_t(c)] = int(v);
        deq[size_t(c)] = float(v) * best;
      }
    }
    if (int8) {
      for (int64_t c = 0; c < cols; ++c)
        q[c] = uint8_t(int8_t(qv[size_t(c)]));
    } else {
      // runtime/int4_layout.h: stored position p holds column column_at(p).
      for (int64_t p = 0; p < cols; ++p) {
        const uint8_t v = uint8_t(qv[size_t(qwenc_rt::int4::column_at(p, int(g)))] + qwenc_rt::int4::kOffset);
        uint8_t &byte = q[qwenc_rt::int4::byte_of(p)];
        byte = qwenc_rt::int4::high_nibble(p) ? uint8_t(byte | v << 4) : uint8_t((byte & 0xf0) | v);
      }
    }
    break;
  }
  }
  for (int64_t c = 0; c < cols; ++c) {
    double w = row[size_t(c)], e = w - deq[size_t(c)];
    signal += w * w;
    noise += e * e;
  }
}

} // namespace

PackedWeight packRows(const std::vector<const TensorRef *> &parts, Storage storage,
                      int64_t groupSize) {
  // Where each part's rows go: quantized bytes first, then all the scales.
  const bool quantized = storage == Storage::Int8 || storage == Storage::Int4;
  struct Layout { int64_t rows, cols, qOffset, sIndex, perRowScales; };
  std::vector<Layout> layouts;
  uint64_t qBytes = 0, nScales = 0;
  for (const TensorRef *t : parts) {
    const int64_t cols = t->shape.size() == 2 ? t->shape[1] : t->numElements();
    const int64_t rows = t->numElements() / cols;
    const int64_t perRow = !quantized ? 0 : storage == Storage::Int8 ? 1 : cols / groupSize;
    layouts.push_back({rows, cols, int64_t(qBytes), int64_t(nScales), perRow});
    qBytes += uint64_t(double(rows * cols) * bytesPerElement(storage));
    nScales += uint64_t(rows * perRow);
  }
  PackedWeight p;
  p.scalesOffset = quantized ? (qBytes + 63) / 64 * 64 : qBytes;
  p.bytes.assign(p.scalesOffset + nScales * 4, 0);
  float *scales = reinterpret_cast<float *>(p.bytes.data() + p.scalesOffset);

  // Rows are independent: pack them on every core.
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::vector<double>> signal(threads, std::vector<double>(parts.size())),
      noise(threads, std::vector<double>(parts.size()));
  std::vector<std::thread> pool;
  for (unsigned th = 0; th < threads; ++th)
    pool.emplace_back([&, th] {
      for (size_t i = 0; i < parts.size(); ++i) {
        const Layout &l = layouts[i];
        const int64_t bytesPerRow = int64_t(double(l.cols) * bytesPerElement(storage));
        for (int64_t r = l.rows * th / threads; r < l.rows * (th + 1) / threads; ++r)
          packRow(*parts[i], r, l.cols, storage, groupSize,
                  p.bytes.data() + l.qOffset + r * bytesPerRow, scales + l.sIndex + r * l.perRowScales,
                  signal[th][i], noise[th][i]);
      }
    });
  for (std::thread &t : pool)
    t.join();
  for (size_t i = 0; i < parts.size(); ++i) {
    double sg = 0, ns = 0;
    for (unsigned th = 0; th < threads; ++th) {
      sg += signal[th][i];
      ns += noise[th][i];
    }
    p.snrDb.push_back(snr(sg, ns));
  }
  return p;
}

} // namespace qwenc
