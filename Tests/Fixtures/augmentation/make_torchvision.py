"""torchvision's definitions of the Barlow Twins augmentations, for fixed parameters.

Run with /usr/bin/python3 (Debian's torch 1.13 and torchvision 0.14). Writes
torchvision.json: small inputs and what each functional op makes of them, plus statistics of
RandomResizedCrop.get_params measured over many draws.
"""
import json, math
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

torch.manual_seed(0)
out = {"torch": torch.__version__, "torchvision": torchvision.__version__}
def flat(t):
    return [round(float(v), 7) for v in t.flatten().tolist()]

x = torch.rand(2, 3, 12, 16)
out["input_shape"] = list(x.shape)
out["input"] = flat(x)

# Colour ops, one factor per sample (each sample transformed alone, as torchvision does).
ops = {
    "brightness": ([1.3, 0.65], F.adjust_brightness),
    "contrast": ([0.7, 1.35], F.adjust_contrast),
    "saturation": ([1.15, 0.0], F.adjust_saturation),
    "hue": ([0.08, -0.1], F.adjust_hue),
}
for name, (factors, fn) in ops.items():
    out[name] = {"factors": factors, "output": flat(torch.stack([fn(x[i], f) for i, f in enumerate(factors)]))}
out["grayscale"] = flat(F.rgb_to_grayscale(x, num_output_channels=3))
out["solarize"] = flat(F.solarize(x, 0.5))

# The four jitter ops in a per-sample order (torchvision draws the order with randperm(4)).
orders = [[3, 1, 0, 2], [2, 0, 3, 1]]  # 0 brightness, 1 contrast, 2 saturation, 3 hue
factors = [[1.2, 0.8, 1.1, 0.05], [0.7, 1.3, 0.9, -0.07]]
jittered = []
for i in range(2):
    y = x[i]
    for op in orders[i]:
        y = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue][op](y, factors[i][op])
    jittered.append(y)
out["jitter"] = {"orders": orders, "factors": factors, "output": flat(torch.stack(jittered))}

# Gaussian blur, torchvision's kernel and reflect padding, one sigma per sample.
blur = {"kernel": 5, "sigmas": [0.4, 1.7]}
blur["output"] = flat(torch.stack([F.gaussian_blur(x[i], [5, 5], [s, s]) for i, s in enumerate(blur["sigmas"])]))
out["blur"] = blur

# Resized crops with bicubic antialiased resampling (PIL's bicubic, as Barlow Twins used).
crops = []
for (top, left, h, w, size) in [(2, 3, 7, 9, [10, 10]), (0, 0, 12, 16, [6, 8]), (1, 4, 10, 5, [8, 8]), (5, 1, 3, 14, [4, 7])]:
    y = F.resized_crop(x[0], top, left, h, w, size, InterpolationMode.BICUBIC, antialias=True)
    flipped = F.hflip(y)
    crops.append({"box": [top, left, h, w], "size": size, "output": flat(y), "flipped": flat(flipped)})
out["resized_crop"] = crops

# Centre crop after resize, torchvision's evaluation transform.
ev = T.Compose([T.Resize(10, interpolation=InterpolationMode.BICUBIC, antialias=True), T.CenterCrop(8)])
out["evaluation"] = {"resize": 10, "crop": 8, "output": flat(ev(x[1]))}

# RandomResizedCrop.get_params: statistics over many draws per image size.
stats = {}
for side in [32, 96, 224]:
    img = torch.zeros(1, side, side)
    areas, ratios = [], []
    n = 20000
    for _ in range(n):
        i, j, h, w = T.RandomResizedCrop.get_params(img, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3))
        areas.append(h * w / side / side)
        ratios.append(math.log(w / h))
    t = torch.tensor(areas)
    r = torch.tensor(ratios)
    stats[str(side)] = {"draws": n, "area_mean": t.mean().item(), "area_std": t.std().item(),
                        "area_below_quarter": (t < 0.25).double().mean().item(),
                        "log_ratio_mean": r.mean().item(), "log_ratio_std": r.std().item()}
out["crop_statistics"] = stats

with open("torchvision.json", "w") as f:
    json.dump(out, f)
