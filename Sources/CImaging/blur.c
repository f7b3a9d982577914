// torchvision's Gaussian blur on float planes, separable: down the columns, then along the
// rows, whole rows weighted and added, a loop the compiler vectorises. libtorch 1.13 runs it
// as a depthwise convolution: 213 ms for 64 views of 224² on one core, against 27 ms here.
#include "imaging.h"
#include "clones.h"
#include <string.h>

// torch's reflect padding: the edge pixel is not repeated (−1 reads 1, n reads n − 2).
static int64_t reflect(int64_t i, int64_t n) {
    if (i < 0) return -i;
    if (i >= n) return 2 * (n - 1) - i;
    return i;
}

CI_VECTOR_CLONES
void ci_blur_planes(float *data, int64_t planes, int64_t height, int64_t width, const float *kernels, int64_t taps,
                    float *scratch) {
    int64_t half = taps / 2;
    float *columns = scratch;                // [height, width]: the plane blurred down its columns
    float *row = scratch + height * width;   // one row, reflect-padded by half at each end
    for (int64_t p = 0; p < planes; ++p) {
        float *plane = data + p * height * width;
        const float *k = kernels + p * taps;
        for (int64_t y = 0; y < height; ++y) {
            float *out = columns + y * width;
            for (int64_t x = 0; x < width; ++x) out[x] = 0;
            for (int64_t t = 0; t < taps; ++t) {
                const float *in = plane + reflect(y + t - half, height) * width;
                float w = k[t];
                for (int64_t x = 0; x < width; ++x) out[x] += w * in[x];
            }
        }
        for (int64_t y = 0; y < height; ++y) {
            const float *in = columns + y * width;
            memcpy(row + half, in, (size_t)width * sizeof(float));
            for (int64_t i = 1; i <= half; ++i) {
                row[half - i] = in[reflect(-i, width)];
                row[half + width - 1 + i] = in[reflect(width - 1 + i, width)];
            }
            float *out = plane + y * width;
            for (int64_t x = 0; x < width; ++x) out[x] = 0;
            for (int64_t t = 0; t < taps; ++t) {
                float w = k[t];
                const float *shifted = row + t;
                for (int64_t x = 0; x < width; ++x) out[x] += w * shifted[x];
            }
        }
    }
}
