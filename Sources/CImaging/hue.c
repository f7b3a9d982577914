// torchvision's adjust_hue (_rgb2hsv, a turn of the hue, _hsv2rgb) one pixel at a time, with
// its float operations in its order. As libtorch ops it is some sixty elementwise passes over a
// view, each writing a new tensor.
#include "imaging.h"
#include "clones.h"
#include <math.h>

// torch.remainder for floats: the sign of the divisor (here 1 or 6: the result is in [0, b)).
static float remainder_of(float a, float b) {
    float mod = fmodf(a, b);
    if (mod != 0 && ((b < 0) != (mod < 0))) mod += b;
    return mod;
}

static float clamp01(float x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

CI_VECTOR_CLONES
void ci_adjust_hue(float *data, int64_t images, int64_t pixels, const float *factors) {
    for (int64_t n = 0; n < images; ++n) {
        float *red = data + n * 3 * pixels, *green = red + pixels, *blue = green + pixels;
        float factor = factors[n];
        for (int64_t i = 0; i < pixels; ++i) {
            float r = red[i], g = green[i], b = blue[i];
            float maxc = fmaxf(r, fmaxf(g, b)), minc = fminf(r, fminf(g, b));
            int eqc = maxc == minc;
            float cr = maxc - minc;
            float s = cr / (eqc ? 1.0f : maxc);
            float divisor = eqc ? 1.0f : cr;
            float rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor;
            int is_r = maxc == r, is_g = maxc == g;
            float hr = is_r ? bc - gc : 0.0f;
            float hg = is_g && !is_r ? (2.0f + rc) - bc : 0.0f;
            float hb = !is_g && !is_r ? (4.0f + gc) - rc : 0.0f;
            float h = remainder_of((hr + hg + hb) / 6.0f + 1.0f, 1.0f);
            h = remainder_of(h + factor, 1.0f);
            float v = maxc;
            float sector_start = floorf(h * 6.0f);
            float f = h * 6.0f - sector_start;
            int sector = ((int)sector_start % 6 + 6) % 6;
            float p = clamp01(v * (1.0f - s)), q = clamp01(v * (1.0f - s * f)), t = clamp01(v * (1.0f - s * (1.0f - f)));
            switch (sector) {
            case 0: red[i] = v; green[i] = t; blue[i] = p; break;
            case 1: red[i] = q; green[i] = v; blue[i] = p; break;
            case 2: red[i] = p; green[i] = v; blue[i] = t; break;
            case 3: red[i] = p; green[i] = q; blue[i] = v; break;
            case 4: red[i] = t; green[i] = p; blue[i] = v; break;
            default: red[i] = v; green[i] = p; blue[i] = q; break;
            }
        }
    }
}
