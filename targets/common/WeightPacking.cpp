//===- WeightPacking.cpp - weights in the layout the kernels read ---------===//
#include "targets/common/WeightPacking.h"
#include "runtime/bf16.h"
#include "runtime/int4_layout.h"
#include "runtime/int8_layout.h"
#include "runtime/quant_rule.h"

#include <cmath>
#include <cstring>
#include <algorithm>
#include <limits>
#include <thread>

namespace qwenc {
namespace {

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
      uint16_t h = qwenc_rt::bf16_round(row[size_t(c)]);
      std::memcpy(q + 2 * c, &h, 2);
      deq[size_t(c)] = qwenc_rt::bf16_widen(h);
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
    // runtime/quant_rule.h: the scale of each group and the rounding.
    std::vector<int> qv(static_cast<size_t>(cols));
    for (int64_t start = 0; start < cols; start += g) {
      const float scale = qwenc_rt::quant::group_scale(row.data() + start, g, int8);
      const float inv = scale > 0 ? 1.0f / scale : 0.0f;
      scales[start / g] = scale;
      for (int64_t c = start; c < start + g; ++c) {
        qv[size_t(c)] = qwenc_rt::quant::quantize(row[size_t(c)], inv, int8);
        deq[size_t(c)] = float(qv[size_t(c)]) * scale;
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

void int8RowsToTiles(uint8_t *q, int64_t rows, int64_t cols) {
  constexpr int T = qwenc_rt::int8::kTile;
  std::vector<uint8_t> tile(size_t(T * cols));
  for (int64_t t = 0; t < rows / T; ++t) {
    uint8_t *base = q + t * T * cols;
    std::memcpy(tile.data(), base, tile.size());
    for (int64_t n = 0; n < T; ++n)
      for (int64_t k = 0; k < cols; ++k)
        base[qwenc_rt::int8::tiled_offset(n, k, cols)] = tile[size_t(n * cols + k)];
  }
}

void int4RowsToTiles(uint8_t *q, float *scales, int64_t rows, int64_t cols) {
  namespace i4 = qwenc_rt::int4;
  constexpr int T = i4::kTileRows;
  const int64_t rowBytes = cols / 2, groups = cols / i4::kTileGroup;
  std::vector<uint8_t> tile(size_t(T * rowBytes));
  std::vector<float> tileScales(size_t(T * groups));
  for (int64_t t = 0; t < rows / T; ++t) {
    uint8_t *base = q + t * T * rowBytes;
    float *sBase = scales + t * T * groups;
    std::memcpy(tile.data(), base, tile.size());
    std::memcpy(tileScales.data(), sBase, tileScales.size() * 4);
    std::memset(base, 0, tile.size());
    for (int64_t n = 0; n < T; ++n) {
      for (int64_t k = 0; k < cols; ++k) { // (groups of 128: stored position = column)
        const uint8_t byte = tile[size_t(n * rowBytes + i4::byte_of(k))];
        const uint8_t v = i4::high_nibble(k) ? byte >> 4 : byte & 15;
        base[i4::tiled_byte(n, k, cols)] |= i4::tiled_high(k) ? uint8_t(v << 4) : v;
      }
      for (int64_t g = 0; g < groups; ++g)
        sBase[i4::tiled_scale(n, g, groups)] = tileScales[size_t(n * groups + g)];
    }
  }
}

} // namespace qwenc
