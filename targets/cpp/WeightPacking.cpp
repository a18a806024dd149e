//===- WeightPacking.cpp - weights in the layout the kernels read ---------===//
#include "targets/cpp/WeightPacking.h"

#include <cmath>
#include <cstring>
#include <limits>

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

template <typename T>
void append(std::vector<uint8_t> &out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

double snr(double signal, double noise) {
  if (noise == 0.0)
    return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

} // namespace

double storageBytesPerElement(Storage s) {
  switch (s) {
  case Storage::F32: return 4;
  case Storage::BF16: case Storage::F16: return 2;
  case Storage::Int8: return 1;
  case Storage::Int4: return 0.5;
  }
  return 0;
}

PackedWeight packRows(const std::vector<const TensorRef *> &parts, Storage storage,
                      int64_t groupSize) {
  PackedWeight p;
  std::vector<float> scales;
  std::vector<float> row, deq;
  for (const TensorRef *t : parts) {
    const int64_t cols = t->shape.size() == 2 ? t->shape[1] : t->numElements();
    const int64_t rows = t->numElements() / cols;
    double signal = 0, noise = 0;
    row.resize(size_t(cols));
    deq.resize(size_t(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c)
        row[size_t(c)] = t->valueAt(r * cols + c);
      switch (storage) {
      case Storage::F32:
        for (float v : row)
          append(p.bytes, v);
        deq = row;
        break;
      case Storage::BF16:
        for (int64_t c = 0; c < cols; ++c) {
          uint16_t h = toBF16(row[size_t(c)]);
          append(p.bytes, h);
          deq[size_t(c)] = fromBF16(h);
        }
        break;
      case Storage::F16: // only ever the checkpoint's own F16: copy the bits
        for (int64_t c = 0; c < cols; ++c) {
          uint16_t h;
          std::memcpy(&h, t->data + 2 * (r * cols + c), 2);
          append(p.bytes, h);
        }
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
        std::vector<int> q(static_cast<size_t>(cols));
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
          const float scale = best, inv = scale > 0 ? 1.0f / scale : 0.0f;
          scales.push_back(scale);
          for (int64_t c = start; c < start + g; ++c) {
            long v = std::lrint(row[size_t(c)] * inv);
            v = v > qhi ? qhi : v < qlo ? qlo : v;
            q[size_t(c)] = int(v);
            deq[size_t(c)] = float(v) * scale;
          }
        }
        if (int8) {
          for (int v : q)
            p.bytes.push_back(uint8_t(int8_t(v)));
        } else {
          for (int64_t c = 0; c < cols; c += 2)
            p.bytes.push_back(uint8_t((q[size_t(c)] + 8) | ((q[size_t(c + 1)] + 8) << 4)));
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
    p.snrDb.push_back(snr(signal, noise));
  }
  if (storage == Storage::Int8 || storage == Storage::Int4) {
    while (p.bytes.size() % 64)
      p.bytes.push_back(0);
    p.scalesOffset = p.bytes.size();
    for (float s : scales)
      append(p.bytes, s);
  }
  return p;
}

} // namespace qwenc
