"""Small data files for the dataset tests: a gzip IDX pair, JPEG and PNG images.

Run with /usr/bin/python3 (Debian's Pillow and NumPy). The expected pixel values of the
images are written beside them, decoded by Pillow, so the Swift decoders are checked against
an independent decoder.
"""
import gzip, json, struct
import numpy as np
from PIL import Image

rng = np.random.default_rng(5)

# IDX: 3 images 28x28 and their labels, gzip-compressed, with a deterministic mtime.
images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
labels = np.array([7, 0, 9], dtype=np.uint8)
def idx(array):
    return bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">i", s) for s in array.shape) + array.tobytes()
for name, array in [("images-idx3-ubyte.gz", images), ("labels-idx1-ubyte.gz", labels)]:
    with open(name, "wb") as f:
        f.write(gzip.compress(idx(array), mtime=0))

# Images: a smooth RGB gradient (JPEG-friendly), a grey PNG and an RGBA PNG.
y, x = np.mgrid[0:40, 0:56]
rgb = np.stack([x * 4, y * 6, (x + y) * 2], axis=-1).clip(0, 255).astype(np.uint8)
Image.fromarray(rgb).save("gradient.jpg", quality=95)
Image.fromarray(rgb).save("gradient.png")
grey = (x[:20, :24] * 9).astype(np.uint8)
Image.fromarray(grey, mode="L").save("grey.png")

expected = {
    "idx_images_sum": int(images.astype(np.int64).sum()),
    "idx_images_first_row": images[0, 0].tolist(),
    "idx_labels": labels.tolist(),
    "jpeg_rgb": np.asarray(Image.open("gradient.jpg").convert("RGB")).astype(int).flatten().tolist(),
    "png_rgb": rgb.astype(int).flatten().tolist(),
    "grey_png_rgb": np.asarray(Image.open("grey.png").convert("RGB")).astype(int).flatten().tolist(),
}
with open("expected.json", "w") as f:
    json.dump(expected, f)
