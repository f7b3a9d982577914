/* Pixel kernels of the image loader, in C so that they can be compiled for the CPU's vector
 * units (AVX-512 or AVX2 where it has them) and chosen at run time; Swift compiles for the x86-64
 * baseline, which has no 32-bit vector multiply. */
#ifndef BLOCKWISE_IMAGING_H
#define BLOCKWISE_IMAGING_H
#include <stdint.h>

/* One output line of one pass of Pillow's fixed-point resampling (libImaging/Resample.c):
 * for each i < length, out[i · out_stride] = clip8(rounding + Σ_t weights[t] · lines[t][i]),
 * where lines[t] = first_line + t · line_stride, and clip8 takes the sum back to a byte
 * (0 below zero, 255 at or above 255 << precision_bits, else sum >> precision_bits).
 * sums: scratch of `length` values. */
void ci_resample_line(const uint8_t *first_line, int64_t line_stride, const int32_t *weights, int64_t taps,
                      int64_t length, int32_t rounding, int32_t precision_bits, int32_t *sums, uint8_t *out,
                      int64_t out_stride);

/* Planar, transposed bytes of `rows` × `width` pixels of an interleaved RGB image (`pixel_stride`
 * bytes per pixel, `row_stride` per row): out[(c · width + x) · rows + y] = source[y · row_stride
 * + x · pixel_stride + c], for c < 3. The horizontal pass of a resize then runs as a vertical one. */
void ci_transpose_planes(const uint8_t *source, int64_t pixel_stride, int64_t row_stride, int64_t rows, int64_t width,
                         uint8_t *out);

/* out[c · rows + r] = in[r · columns + c]: the transpose of a [rows, columns] byte matrix. */
void ci_transpose_bytes(const uint8_t *in, int64_t rows, int64_t columns, uint8_t *out);

/* torchvision's Gaussian blur (reflect padding) of `planes` float planes [height, width],
 * contiguous, in place: each plane convolved with its own 1-D kernel (`kernels`: [planes][taps],
 * taps odd and at most 2·min(height, width) − 1) down the columns, then along the rows. The sums
 * run over the taps in order, as a convolution's do. scratch: height·width + width + taps − 1
 * floats. */
void ci_blur_planes(float *data, int64_t planes, int64_t height, int64_t width, const float *kernels, int64_t taps,
                    float *scratch);

/* torchvision's adjust_hue of `images` RGB float images in [0, 1] ([3, pixels] each, contiguous),
 * in place: the hue of image n turned by factors[n] (in turns, within [−0.5, 0.5]) through HSV,
 * with torchvision's float operations (_rgb2hsv, _hsv2rgb) in their order. */
void ci_adjust_hue(float *data, int64_t images, int64_t pixels, const float *factors);

/* The steps of one view after its crop (ViewPipeline.swift's applyAfterCrop) for one image. */
typedef struct {
    int32_t jitter;             /* ColorJitter on: the four ops in `order` */
    int32_t order[4];           /* 0 brightness, 1 contrast, 2 saturation, 3 hue */
    float factors[4];           /* brightness, contrast and saturation factors; hue in turns */
    int32_t grayscale;
    const float *blur_kernels;  /* NULL: no blur; else [3][blur_taps], one kernel per plane */
    int64_t blur_taps;          /* odd, at most 2·min(height, width) − 1 */
    int32_t solarize;           /* inverts the pixels at or above 0.5 */
} ci_view_steps;

/* `channels` (1: grey, replicated; or 3) uint8 planes of `pixels` as float [3, pixels] in [0, 1]:
 * byte / 255, as libtorch's to(float) / 255 makes them. */
void ci_unit_image(const uint8_t *bytes, int64_t channels, int64_t pixels, float *image);

/* One view of one RGB image [3, height, width] in [0, 1], in place: `steps` in Barlow Twins' order
 * with torchvision's float operations in their order, then (x − mean[c]) / std[c].
 * scratch: as ci_blur_planes's. */
void ci_finish_view(float *image, int64_t height, int64_t width, const ci_view_steps *steps, const float *mean,
                    const float *std, float *scratch);

#endif
