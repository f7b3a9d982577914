"""Expected outputs of the deterministic ImageNet-C corruptions on a tiny image.

Run with /opt/refpy/bin/python (numpy, scipy, Pillow). The `imagenet_c` package is not
installable here (it needs Wand/ImageMagick and OpenCV), so its formulas are transcribed from
hendrycks/robustness, ImageNet-C/imagenet_c/imagenet_c/corruptions.py, with:
  - skimage.filters.gaussian(sigma, multichannel=True) = scipy.ndimage.gaussian_filter per
    channel with mode='nearest', truncate=4 (skimage's defaults);
  - skimage.color.rgb2hsv / hsv2rgb transcribed below from scikit-image (color/colorconv.py);
  - cv2.GaussianBlur(ksize, sigmaX) = separable getGaussianKernel taps, border
    BORDER_REFLECT_101 = scipy mode 'mirror'; cv2.filter2D = scipy.ndimage.correlate, 'mirror';
  - Pillow itself for pixelate (mode 'F', float, so no 8-bit rounding) and for JPEG (8-bit RGB).
The spatial constants are ImageNet-C's own (spatial scale 1). Writes corruptions.json.
"""
import io
import json

import numpy as np
from PIL import Image
from scipy import ndimage

SIDE = 12
rng = np.random.default_rng(7)
image = (rng.integers(0, 256, size=(SIDE, SIDE, 3)) / 255.0)  # H, W, C in [0, 1]


def gaussian_blur(x, severity):
    c = [1, 2, 3, 4, 6][severity - 1]
    out = np.stack([ndimage.gaussian_filter(x[:, :, d], sigma=c, mode='nearest', truncate=4.0) for d in range(3)], -1)
    return np.clip(out, 0, 1)


def cv2_gaussian_kernel(n, sigma):
    i = np.arange(n) - (n - 1) / 2
    t = np.exp(-(i * i) / (2 * sigma * sigma))
    return t / t.sum()


def disk(radius, alias_blur=0.1):
    if radius <= 8:
        L = np.arange(-8, 8 + 1)
        ksize = 3
    else:
        L = np.arange(-radius, radius + 1)
        ksize = 5
    X, Y = np.meshgrid(L, L)
    aliased_disk = np.array((X ** 2 + Y ** 2) <= radius ** 2, dtype=np.float64)
    aliased_disk /= np.sum(aliased_disk)
    g = cv2_gaussian_kernel(ksize, alias_blur)
    return ndimage.correlate(aliased_disk, np.outer(g, g), mode='mirror')


def defocus_blur(x, severity):
    c = [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)][severity - 1]
    kernel = disk(radius=c[0], alias_blur=c[1])
    channels = [ndimage.correlate(x[:, :, d], kernel, mode='mirror') for d in range(3)]
    return np.clip(np.stack(channels, -1), 0, 1)


def contrast(x, severity):
    c = [0.4, .3, .2, .1, .05][severity - 1]
    means = np.mean(x, axis=(0, 1), keepdims=True)
    return np.clip((x - means) * c + means, 0, 1)


def rgb2hsv(arr):
    out = np.empty_like(arr)
    out_v = arr.max(-1)
    delta = np.ptp(arr, -1)
    with np.errstate(invalid='ignore', divide='ignore'):
        out_s = delta / out_v
        out_s[delta == 0.] = 0.
        idx = (arr[..., 0] == out_v)
        out[idx, 0] = (arr[idx, 1] - arr[idx, 2]) / delta[idx]
        idx = (arr[..., 1] == out_v)
        out[idx, 0] = 2. + (arr[idx, 2] - arr[idx, 0]) / delta[idx]
        idx = (arr[..., 2] == out_v)
        out[idx, 0] = 4. + (arr[idx, 0] - arr[idx, 1]) / delta[idx]
    out_h = (out[..., 0] / 6.) % 1.
    out_h[delta == 0.] = 0.
    out[..., 0] = out_h
    out[..., 1] = out_s
    out[..., 2] = out_v
    out[np.isnan(out)] = 0
    return out


def hsv2rgb(arr):
    hi = np.floor(arr[..., 0] * 6)
    f = arr[..., 0] * 6 - hi
    p = arr[..., 2] * (1 - arr[..., 1])
    q = arr[..., 2] * (1 - f * arr[..., 1])
    t = arr[..., 2] * (1 - (1 - f) * arr[..., 1])
    v = arr[..., 2]
    hi = np.stack([hi, hi, hi], axis=-1).astype(np.uint8) % 6
    return np.choose(hi, np.stack([np.stack((v, t, p), axis=-1), np.stack((q, v, p), axis=-1),
                                   np.stack((p, v, t), axis=-1), np.stack((p, q, v), axis=-1),
                                   np.stack((t, p, v), axis=-1), np.stack((v, p, q), axis=-1)]))


def brightness(x, severity):
    c = [.1, .2, .3, .4, .5][severity - 1]
    x = rgb2hsv(x)
    x[:, :, 2] = np.clip(x[:, :, 2] + c, 0, 1)
    return np.clip(hsv2rgb(x), 0, 1)


def saturate(x, severity):
    c = [(0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)][severity - 1]
    x = rgb2hsv(x)
    x[:, :, 1] = np.clip(x[:, :, 1] * c[0] + c[1], 0, 1)
    return np.clip(hsv2rgb(x), 0, 1)


def pixelate(x, severity):
    # ImageNet-C: x.resize((int(224 * c),) * 2, BOX) then back to 224, on the 8-bit image;
    # here each channel is a float ('F') image, so Pillow does not round between the passes.
    c = [0.6, 0.5, 0.4, 0.3, 0.25][severity - 1]
    small = int(SIDE * c)
    out = []
    for d in range(3):
        channel = Image.fromarray(x[:, :, d].astype(np.float32), mode='F')
        channel = channel.resize((small, small), Image.BOX).resize((SIDE, SIDE), Image.BOX)
        out.append(np.asarray(channel, dtype=np.float64))
    return np.stack(out, -1)


def jpeg_compression(x, severity):
    c = [25, 18, 15, 10, 7][severity - 1]
    output = io.BytesIO()
    Image.fromarray(np.uint8(np.round(x * 255)), mode='RGB').save(output, 'JPEG', quality=c)
    return np.asarray(Image.open(output), dtype=np.float64) / 255.0


def chw(x):
    return [round(float(v), 6) for v in np.transpose(x, (2, 0, 1)).ravel()]


corruptions = {f.__name__: f for f in [gaussian_blur, defocus_blur, contrast, brightness, saturate, pixelate,
                                         jpeg_compression]}
result = {
    "side": SIDE,
    "image": chw(image),
    "expected": {name: [chw(f(image.copy(), s)) for s in range(1, 6)] for name, f in corruptions.items()},
}
with open("corruptions.json", "w") as out:
    json.dump(result, out, separators=(",", ":"))
