// torchvision's adjust_hue (_rgb2hsv, a turn of the hue, _hsv2rgb) one pixel at a time, with
// its float operations in its order. As libtorch ops it is some sixty elementwise passes over a
// view, each writing a new tensor. The loop has no branches and no calls, so that the compiler
// vectorises it: every choice is a select, and torch.remainder(x, 1) is x − ⌊x⌋, the same float
// (fmod's result is exact, so both round x + k once).
#include "imaging.h"
#include "clones.h"
#include <math.h>

static float clamp01(float x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

static float remainder1(float x) { return x - floorf(x); }

// One image's planes. restrict spares the vectorised loop its run-time overlap checks, which
// the compiler would hoist over all the images, whose planes do overlap, so that the scalar loop
// would always run; always_inline puts it in each vector clone of ci_adjust_hue.
static inline __attribute__((always_inline)) void turn_hue(float *restrict red, float *restrict green,
                                                           float *restrict blue, int64_t pixels, float factor) {
    for (int64_t i = 0; i < pixels; ++i) {
        float r = red[i], g = green[i], b = blue[i];
        float maxc = r > g ? r : g;
        maxc = maxc > b ? maxc : b;
        float minc = r < g ? r : g;
        minc = minc < b ? minc : b;
        int eqc = maxc == minc;
        float cr = maxc - minc;
        float s = cr / (eqc ? 1.0f : maxc);
        float divisor = eqc ? 1.0f : cr;
        float rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor;
        int is_r = maxc == r, is_g = maxc == g;
        float hr = is_r ? bc - gc : 0.0f;
        float hg = is_g && !is_r ? (2.0f + rc) - bc : 0.0f;
        float hb = !is_g && !is_r ? (4.0f + gc) - rc : 0.0f;
        float h = remainder1((hr + hg + hb) / 6.0f + 1.0f);
        h = remainder1(h + factor);
        float v = maxc;
        float sector_start = floorf(h * 6.0f);
        float f = h * 6.0f - sector_start;
        int sector = (int)sector_start;
        sector = sector >= 6 ? sector - 6 : sector;
        float p = clamp01(v * (1.0f - s)), q = clamp01(v * (1.0f - s * f)), t = clamp01(v * (1.0f - s * (1.0f - f)));
        red[i] = sector == 0 || sector == 5 ? v : sector == 1 ? q : sector == 4 ? t : p;
        green[i] = sector == 1 || sector == 2 ? v : sector == 3 ? q : sector == 0 ? t : p;
        blue[i] = sector == 3 || sector == 4 ? v : sector == 5 ? q : sector == 2 ? t : p;
    }
}

CI_VECTOR_CLONES
void ci_adjust_hue(float *data, int64_t images, int64_t pixels, const float *factors) {
    for (int64_t n = 0; n < images; ++n) {
        float *red = data + n * 3 * pixels;
        turn_hue(red, red + pixels, red + 2 * pixels, pixels, factors[n]);
    }
}
