// Pillow's fixed-point resampling, one output line at a time: whole source lines weighted and
// added, a loop the compiler vectorises. The integer sums are Pillow's, so the bytes are too.
#include "imaging.h"
#include "clones.h"
#include <stdlib.h>
#include <string.h>

CI_VECTOR_CLONES
void ci_resample_line(const uint8_t *first_line, int64_t line_stride, const int32_t *weights, int64_t taps,
                      int64_t length, int32_t rounding, int32_t precision_bits, int32_t *sums, uint8_t *out,
                      int64_t out_stride) {
    for (int64_t i = 0; i < length; ++i) sums[i] = rounding;
    for (int64_t t = 0; t < taps; ++t) {
        const uint8_t *line = first_line + t * line_stride;
        int32_t w = weights[t];
        // Unsigned wrap-around, as Swift's &+ and &*: Pillow's sums never overflow, and this
        // keeps the loop free of undefined behaviour either way.
        for (int64_t i = 0; i < length; ++i) sums[i] = (int32_t)((uint32_t)sums[i] + (uint32_t)line[i] * (uint32_t)w);
    }
    int32_t top = (int32_t)1 << (precision_bits + 8);
    for (int64_t i = 0; i < length; ++i) {
        int32_t sum = sums[i];
        out[i * out_stride] = sum >= top ? 255 : sum <= 0 ? 0 : (uint8_t)(sum >> precision_bits);
    }
}

// A 16 × 16 byte block transposed in registers: four rounds of interleaving (bytes, pairs,
// quads, halves), clang's vector shuffles, which are SSE2's unpack instructions on x86-64 (and
// NEON's zips elsewhere).
typedef uint8_t ci_bytes16 __attribute__((vector_size(16)));

static inline ci_bytes16 ci_load16(const uint8_t *p) {
    ci_bytes16 v;
    memcpy(&v, p, 16);
    return v;
}

static inline __attribute__((always_inline)) void ci_transpose16(const uint8_t *in, int64_t in_stride, uint8_t *out,
                                                                 int64_t out_stride) {
    ci_bytes16 r[16], t[16], u[16], v[16];
    for (int i = 0; i < 16; ++i) r[i] = ci_load16(in + i * in_stride);
    // t[k]: rows 2k and 2k + 1 interleaved, columns 0–7; t[k + 8]: columns 8–15.
    for (int k = 0; k < 8; ++k) {
        t[k] = __builtin_shufflevector(r[2 * k], r[2 * k + 1], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        t[k + 8] = __builtin_shufflevector(r[2 * k], r[2 * k + 1], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    }
    // u[4h + k]: rows 4k to 4k + 3, columns 4h to 4h + 3 (h = 0 … 3).
    for (int half = 0; half < 2; ++half) {
        for (int k = 0; k < 4; ++k) {
            ci_bytes16 a = t[8 * half + 2 * k], b = t[8 * half + 2 * k + 1];
            u[8 * half + k] = __builtin_shufflevector(a, b, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
            u[8 * half + 4 + k] = __builtin_shufflevector(a, b, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
        }
    }
    // v[2q + k]: rows 8k to 8k + 7, columns 2q and 2q + 1 (q = 0 … 7).
    for (int quad = 0; quad < 4; ++quad) {
        for (int k = 0; k < 2; ++k) {
            ci_bytes16 a = u[4 * quad + 2 * k], b = u[4 * quad + 2 * k + 1];
            v[4 * quad + k] = __builtin_shufflevector(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
            v[4 * quad + 2 + k] = __builtin_shufflevector(a, b, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
        }
    }
    // Column c: rows 0–7 and 8–15 of its pair.
    for (int pair = 0; pair < 8; ++pair) {
        ci_bytes16 a = v[2 * pair], b = v[2 * pair + 1];
        ci_bytes16 even = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        ci_bytes16 odd = __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        memcpy(out + (2 * pair) * out_stride, &even, 16);
        memcpy(out + (2 * pair + 1) * out_stride, &odd, 16);
    }
}

// The band of 16 rows from y0 as three planes [16, width] (scratch), then each plane's 16 × 16
// blocks transposed in registers; the last columns and rows byte by byte. Column by column over
// whole rows, every byte written had landed in another cache line.
CI_VECTOR_CLONES
void ci_transpose_planes(const uint8_t *source, int64_t pixel_stride, int64_t row_stride, int64_t rows, int64_t width,
                         uint8_t *out) {
    uint8_t *planes = malloc((size_t)(48 * (width > 0 ? width : 1)));
    if (!planes) abort();
    int64_t blocks = width / 16 * 16;
    for (int64_t y0 = 0; y0 < rows; y0 += 16) {
        int64_t n = rows - y0 < 16 ? rows - y0 : 16;
        for (int64_t y = 0; y < n; ++y) {
            const uint8_t *line = source + (y0 + y) * row_stride;
            uint8_t *red = planes + y * width, *green = red + 16 * width, *blue = green + 16 * width;
            if (pixel_stride == 3) {  // a constant stride, which the compiler vectorises
                for (int64_t x = 0; x < width; ++x) {
                    red[x] = line[3 * x];
                    green[x] = line[3 * x + 1];
                    blue[x] = line[3 * x + 2];
                }
            } else {
                for (int64_t x = 0; x < width; ++x) {
                    red[x] = line[pixel_stride * x];
                    green[x] = line[pixel_stride * x + 1];
                    blue[x] = line[pixel_stride * x + 2];
                }
            }
        }
        for (int64_t c = 0; c < 3; ++c) {
            const uint8_t *plane = planes + c * 16 * width;
            uint8_t *columns = out + c * width * rows + y0;
            int64_t x = 0;
            if (n == 16) {
                for (; x < blocks; x += 16) ci_transpose16(plane + x, width, columns + x * rows, rows);
            }
            for (; x < width; ++x) {
                for (int64_t y = 0; y < n; ++y) columns[x * rows + y] = plane[y * width + x];
            }
        }
    }
    free(planes);
}

// In 16 × 16 blocks transposed in registers; the last rows and columns byte by byte.
CI_VECTOR_CLONES
void ci_transpose_bytes(const uint8_t *in, int64_t rows, int64_t columns, uint8_t *out) {
    int64_t whole_rows = rows / 16 * 16, whole_columns = columns / 16 * 16;
    for (int64_t r0 = 0; r0 < whole_rows; r0 += 16) {
        for (int64_t c0 = 0; c0 < whole_columns; c0 += 16) ci_transpose16(in + r0 * columns + c0, columns, out + c0 * rows + r0, rows);
        for (int64_t c = whole_columns; c < columns; ++c) {
            for (int64_t r = r0; r < r0 + 16; ++r) out[c * rows + r] = in[r * columns + c];
        }
    }
    for (int64_t c = 0; c < columns; ++c) {
        for (int64_t r = whole_rows; r < rows; ++r) out[c * rows + r] = in[r * columns + c];
    }
}
