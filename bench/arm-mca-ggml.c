/* The inner loops of llama.cpp's NEON dot products Q4_0 x Q8_0 and
 * Q8_0 x Q8_0 (ggml-cpu/arch/arm/quants.c), restated here from their
 * published algorithm so that bench/arm-mca can run llvm-mca on what the
 * cross compiler makes of them: two blocks of 32 weights per iteration, the
 * nibbles unpacked with and/shift and - 8, two 16-byte dot products per block
 * (sdot, or without the dot product smull + saddlp + add), the block's two
 * fp16 scales multiplied and a multiply-add into float lanes. Not linked
 * into anything. */
#include <arm_neon.h>
#include <stdint.h>

typedef struct { __fp16 d; uint8_t qs[16]; } block_q4_0; /* 18 bytes */
typedef struct { __fp16 d; int8_t qs[32]; } block_q8_0;  /* 34 bytes */

static inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#ifdef WITH_DOTPROD
  return vdotq_s32(acc, a, b);
#else
  const int16x8_t p0 = vmull_s8(vget_low_s8(a), vget_low_s8(b));
  const int16x8_t p1 = vmull_s8(vget_high_s8(a), vget_high_s8(b));
  return vaddq_s32(acc, vaddq_s32(vpaddlq_s16(p0), vpaddlq_s16(p1)));
#endif
}

float ggml_q4_0_q8_0(int nb, const block_q4_0 *x, const block_q8_0 *y) {
  float32x4_t sum0 = vdupq_n_f32(0), sum1 = vdupq_n_f32(0);
  for (int i = 0; i + 1 < nb; i += 2) {
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    const int8x16_t s8 = vdupq_n_s8(8);
    const uint8x16_t v0 = vld1q_u8(x[i].qs), v1 = vld1q_u8(x[i + 1].qs);
    const int8x16_t l0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v0, m4)), s8);
    const int8x16_t h0 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v0, 4)), s8);
    const int8x16_t l1 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v1, m4)), s8);
    const int8x16_t h1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v1, 4)), s8);
    const int8x16_t y0l = vld1q_s8(y[i].qs), y0h = vld1q_s8(y[i].qs + 16);
    const int8x16_t y1l = vld1q_s8(y[i + 1].qs), y1h = vld1q_s8(y[i + 1].qs + 16);
    const int32x4_t p0 = dot16(dot16(vdupq_n_s32(0), l0, y0l), h0, y0h);
    const int32x4_t p1 = dot16(dot16(vdupq_n_s32(0), l1, y1l), h1, y1h);
    sum0 = vmlaq_n_f32(sum0, vcvtq_f32_s32(p0), (float)x[i].d * (float)y[i].d);
    sum1 = vmlaq_n_f32(sum1, vcvtq_f32_s32(p1), (float)x[i + 1].d * (float)y[i + 1].d);
  }
  return vaddvq_f32(sum0) + vaddvq_f32(sum1);
}

float ggml_q8_0_q8_0(int nb, const block_q8_0 *x, const block_q8_0 *y) {
  float32x4_t sum0 = vdupq_n_f32(0), sum1 = vdupq_n_f32(0);
  for (int i = 0; i + 1 < nb; i += 2) {
    const int8x16_t x0l = vld1q_s8(x[i].qs), x0h = vld1q_s8(x[i].qs + 16);
    const int8x16_t x1l = vld1q_s8(x[i + 1].qs), x1h = vld1q_s8(x[i + 1].qs + 16);
    const int8x16_t y0l = vld1q_s8(y[i].qs), y0h = vld1q_s8(y[i].qs + 16);
    const int8x16_t y1l = vld1q_s8(y[i + 1].qs), y1h = vld1q_s8(y[i + 1].qs + 16);
    const int32x4_t p0 = vaddq_s32(dot16(vdupq_n_s32(0), x0l, y0l), dot16(vdupq_n_s32(0), x0h, y0h));
    const int32x4_t p1 = vaddq_s32(dot16(vdupq_n_s32(0), x1l, y1l), dot16(vdupq_n_s32(0), x1h, y1h));
    sum0 = vmlaq_n_f32(sum0, vcvtq_f32_s32(p0), (float)x[i].d * (float)y[i].d);
    sum1 = vmlaq_n_f32(sum1, vcvtq_f32_s32(p1), (float)x[i + 1].d * (float)y[i + 1].d);
  }
  return vaddvq_f32(sum0) + vaddvq_f32(sum1);
}
