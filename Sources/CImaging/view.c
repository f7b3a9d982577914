// The colour steps of a view after its crop (Barlow Twins' order: ColorJitter's four ops in the
// image's own order, grayscale, blur, solarisation) and the normalisation, one image at a time,
// with torchvision's float operations in its order. As libtorch ops they are some thirty passes
// over a batch, each writing a new tensor; here each step is a pass over one image, which stays
// in the cache from the first step to the last.
#include "imaging.h"
#include "clones.h"

static float clamp01(float x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

// Luma with torchvision's weights, summed left to right as rgb_to_grayscale sums them.
static float luma(float r, float g, float b) { return r * 0.2989f + g * 0.587f + b * 0.114f; }

// torchvision's _blend(x, other, ratio) = clamp(ratio·x + (1 − ratio)·other, 0, 1).
static float blend(float x, float other, float ratio) { return clamp01(ratio * x + (1.0f - ratio) * other); }

static void brightness(float *image, int64_t pixels, float factor) {
    for (int64_t i = 0; i < 3 * pixels; ++i) image[i] = blend(image[i], 0.0f, factor);
}

// Blends with the mean grey level of the image; the mean is summed in double, within a rounding
// of libtorch's float cascade sum.
static void contrast(float *image, int64_t pixels, float factor) {
    const float *red = image, *green = image + pixels, *blue = image + 2 * pixels;
    double sum = 0;
    for (int64_t i = 0; i < pixels; ++i) sum += luma(red[i], green[i], blue[i]);
    float mean = (float)(sum / (double)pixels);
    for (int64_t i = 0; i < 3 * pixels; ++i) image[i] = blend(image[i], mean, factor);
}

static void saturation(float *image, int64_t pixels, float factor) {
    float *red = image, *green = image + pixels, *blue = image + 2 * pixels;
    for (int64_t i = 0; i < pixels; ++i) {
        float grey = luma(red[i], green[i], blue[i]);
        red[i] = blend(red[i], grey, factor);
        green[i] = blend(green[i], grey, factor);
        blue[i] = blend(blue[i], grey, factor);
    }
}

static void grayscale(float *image, int64_t pixels) {
    float *red = image, *green = image + pixels, *blue = image + 2 * pixels;
    for (int64_t i = 0; i < pixels; ++i) red[i] = green[i] = blue[i] = luma(red[i], green[i], blue[i]);
}

static void solarize(float *image, int64_t pixels) {
    for (int64_t i = 0; i < 3 * pixels; ++i) image[i] = image[i] >= 0.5f ? 1.0f - image[i] : image[i];
}

static void normalize(float *image, int64_t pixels, const float *mean, const float *std) {
    for (int64_t c = 0; c < 3; ++c) {
        float *plane = image + c * pixels, m = mean[c], s = std[c];
        for (int64_t i = 0; i < pixels; ++i) plane[i] = (plane[i] - m) / s;
    }
}

CI_VECTOR_CLONES
void ci_unit_image(const uint8_t *bytes, int64_t channels, int64_t pixels, float *image) {
    for (int64_t c = 0; c < 3; ++c) {
        const uint8_t *plane = bytes + (channels == 1 ? 0 : c) * pixels;
        float *out = image + c * pixels;
        for (int64_t i = 0; i < pixels; ++i) out[i] = (float)plane[i] / 255.0f;
    }
}

CI_VECTOR_CLONES
void ci_finish_view(float *image, int64_t height, int64_t width, const ci_view_steps *steps, const float *mean,
                    const float *std, float *scratch) {
    int64_t pixels = height * width;
    if (steps->jitter) {
        for (int stage = 0; stage < 4; ++stage) {
            int op = steps->order[stage];
            float factor = steps->factors[op];
            switch (op) {
            case 0: brightness(image, pixels, factor); break;
            case 1: contrast(image, pixels, factor); break;
            case 2: saturation(image, pixels, factor); break;
            default: ci_adjust_hue(image, 1, pixels, &factor); break;
            }
        }
    }
    if (steps->grayscale) grayscale(image, pixels);
    if (steps->blur_kernels) ci_blur_planes(image, 3, height, width, steps->blur_kernels, steps->blur_taps, scratch);
    if (steps->solarize) solarize(image, pixels);
    normalize(image, pixels, mean, std);
}
