#!/usr/bin/python3
"""What torchvision and Pillow make of images, for the whole-image view and bad-image tests.

  crop-stats H W N SEED       statistics of N RandomResizedCrop.get_params boxes (Barlow Twins'
                              scale and ratio) on an H x W image, as JSON
  views IMAGE SIDE OUT BOX..  for each BOX (top,left,height,width,flip), torchvision's
                              RandomResizedCrop with PIL's bicubic, then the flip: planar RGB
                              bytes [3, SIDE, SIDE], one view after another, written to OUT;
                              a BOX written IMAGE@BOX is cut from that image instead
  decode IMAGE OUT            the image as Pillow decodes it (convert("RGB")): interleaved bytes
  to-png IMAGE OUT            the image as Pillow decodes it, saved as an 8-bit RGB PNG
  bad-images DIR              writes the bad images of BadImageTests into DIR
  huge-image OUT              writes a 10000 x 10000 JPEG
"""
import json
import math
import struct
import sys
import zlib

import numpy as np
import torch
from PIL import Image, ImageDraw
from torchvision import transforms


def crop_stats(height, width, count, seed):
    torch.manual_seed(seed)
    image = torch.zeros(1, height, width)
    scale, ratio = (0.08, 1.0), (3 / 4, 4 / 3)
    boxes = [transforms.RandomResizedCrop.get_params(image, scale, ratio) for _ in range(count)]
    area = np.array([h * w / (height * width) for _, _, h, w in boxes])
    log_ratio = np.array([math.log(w / h) for _, _, h, w in boxes])
    top = np.array([t / (height - h) for t, _, h, _ in boxes if h < height])
    left = np.array([l / (width - w) for _, l, _, w in boxes if w < width])
    full_height = np.mean([h == height for _, _, h, _ in boxes])
    print(json.dumps({
        "area_mean": area.mean(), "area_std": area.std(ddof=1), "log_ratio_mean": log_ratio.mean(),
        "log_ratio_std": log_ratio.std(ddof=1), "relative_top_mean": top.mean(), "relative_left_mean": left.mean(),
        "full_height_rate": float(full_height), "area_below_quarter": float(np.mean(area < 0.25)),
    }))


def views(path, side, out, boxes):
    with open(out, "wb") as file:
        for box in boxes:
            if "@" in box:
                path, box = box.split("@")
            image = Image.open(path).convert("RGB")
            top, left, height, width, flip = (int(v) for v in box.split(","))
            view = transforms.functional.resized_crop(image, top, left, height, width, [side, side],
                                                      transforms.InterpolationMode.BICUBIC)
            if flip:
                view = transforms.functional.hflip(view)
            file.write(np.asarray(view).transpose(2, 0, 1).tobytes())


def decode(path, out):
    with open(out, "wb") as file:
        file.write(np.asarray(Image.open(path).convert("RGB")).tobytes())


def png16(path, array):
    """A 16-bit PNG (grey or RGB) with no gAMA or sRGB chunk, written by hand: Pillow writes
    16-bit grey only."""
    height, width = array.shape[:2]
    colour = 2 if array.ndim == 3 else 0
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in array)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour, 0, 0, 0))
                   + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def bad_images(folder):
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize((320, 240), Image.BICUBIC)
    base.save(f"{folder}/good.jpg", quality=90)
    data = open(f"{folder}/good.jpg", "rb").read()
    open(f"{folder}/truncated.jpg", "wb").write(data[: len(data) // 2])
    # Bytes of the entropy-coded scan overwritten: libjpeg-turbo reads on, with a warning.
    scan = data.index(b"\xff\xda")
    corrupt = bytearray(data)
    corrupt[scan + 400 : scan + 600] = rng.integers(0, 255, 200, dtype=np.uint8).tobytes()
    open(f"{folder}/corrupt-scan.jpg", "wb").write(bytes(corrupt))
    # The frame header (SOF0) broken: no decoder can size the image.
    sof = data.index(b"\xff\xc0")
    broken = bytearray(data)
    broken[sof + 2 : sof + 10] = b"\x00" * 8
    open(f"{folder}/corrupt-header.jpg", "wb").write(bytes(broken))
    base.convert("CMYK").save(f"{folder}/cmyk.jpg", quality=95)
    base.convert("L").save(f"{folder}/grey.jpg", quality=95)
    png16(f"{folder}/grey16.png", (rng.integers(0, 65536, (24, 32))).astype(np.uint16))
    png16(f"{folder}/rgb16.png", (rng.integers(0, 65536, (24, 32, 3))).astype(np.uint16))


def huge_image(path):
    """10000 x 10000 with shapes at many scales, in grey to keep this script's memory small."""
    huge = Image.new("L", (10000, 10000), 90)
    draw = ImageDraw.Draw(huge)
    for i in range(40):
        draw.ellipse([i * 240, i * 200, i * 240 + 1800, i * 200 + 1500], fill=(i * 37) % 256)
    huge.save(path, quality=75)


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "crop-stats":
        crop_stats(*(int(a) for a in arguments))
    elif command == "views":
        views(arguments[0], int(arguments[1]), arguments[2], arguments[3:])
    elif command == "decode":
        decode(*arguments)
    elif command == "to-png":
        Image.open(arguments[0]).convert("RGB").save(arguments[1])
    elif command == "bad-images":
        bad_images(arguments[0])
    elif command == "huge-image":
        huge_image(arguments[0])
    else:
        sys.exit(__doc__)
