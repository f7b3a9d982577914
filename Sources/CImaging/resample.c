// Pillow's fixed-point resampling, one output line at a time: whole source lines weighted and
// added, a loop the compiler vectorises. The integer sums are Pillow's, so the bytes are too.
#include "imaging.h"
#include "clones.h"


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

// Rows are taken in bands of 32: each output column then gets 32 bytes at a time, while the 32
// source rows are each read in order. Column by column over whole rows, every byte written
// landed in another cache line.
CI_VECTOR_CLONES
void ci_transpose_planes(const uint8_t *source, int64_t pixel_stride, int64_t row_stride, int64_t rows, int64_t width,
                         uint8_t *out) {
    enum { band = 32 };
    for (int64_t y0 = 0; y0 < rows; y0 += band) {
        int64_t n = rows - y0 < band ? rows - y0 : band;
        for (int64_t x = 0; x < width; ++x) {
            const uint8_t *pixel = source + y0 * row_stride + x * pixel_stride;
            uint8_t *red = out + x * rows + y0, *green = out + (width + x) * rows + y0, *blue = out + (2 * width + x) * rows + y0;
            for (int64_t y = 0; y < n; ++y) {
                red[y] = pixel[y * row_stride];
                green[y] = pixel[y * row_stride + 1];
                blue[y] = pixel[y * row_stride + 2];
            }
        }
    }
}

// In tiles of 32 × 32 bytes, so that both the rows read and the rows written stay in L1.
CI_VECTOR_CLONES
void ci_transpose_bytes(const uint8_t *in, int64_t rows, int64_t columns, uint8_t *out) {
    enum { tile = 32 };
    for (int64_t r0 = 0; r0 < rows; r0 += tile) {
        int64_t r1 = r0 + tile < rows ? r0 + tile : rows;
        for (int64_t c0 = 0; c0 < columns; c0 += tile) {
            int64_t c1 = c0 + tile < columns ? c0 + tile : columns;
            for (int64_t c = c0; c < c1; ++c) {
                for (int64_t r = r0; r < r1; ++r) out[c * rows + r] = in[r * columns + c];
            }
        }
    }
}
