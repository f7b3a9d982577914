"""PyTorch's reference of one pretraining step of configs/imagenet/paper-simultaneous.yaml, on any
device, for `blockwise bench` to be measured against on the same machine (scripts/gpu-check).

The paper's best setting: ResNet-50 with the ImageNet stem, simultaneous blockwise Barlow Twins
(lambda 0.0051, loss scale 0.024), a head per block (CbE 1x1 conv to 2048 + BN + ReLU + global
average pooling), a projector 8192-8192-8192 per block, independent Gaussian noise (sigma 0.25)
on each block's output, LARS. As blockwise trains, each block's backward runs right after its
forward and the next block sees its detached output, so one block's graph is alive at a time.
With --bf16, convolutions and matmuls run under autocast; BN and the loss stay float32.

Prints one JSON line: images/s of the step (data excluded: two random views reused) and peak
memory (CUDA: the caching allocator's max_memory_allocated; CPU: peak RSS).
Usage: python3 reference-step.py [--device cuda|cpu] [--batch N] [--image-size S] [--steps N] [--bf16]
"""
import argparse, json, resource, time
import torch, torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
p.add_argument("--batch", type=int, default=256, help="images per view (the paper's global batch is 2048)")
p.add_argument("--image-size", type=int, default=224)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--head-dim", type=int, default=2048)
p.add_argument("--projector", default="8192-8192-8192")
p.add_argument("--bf16", action="store_true")
a = p.parse_args()
device = torch.device(a.device)
torch.manual_seed(0)


class Bottleneck(nn.Module):
    def __init__(s, i, width, stride):
        super().__init__()
        o = width * 4
        s.conv1 = nn.Conv2d(i, width, 1, bias=False); s.bn1 = nn.BatchNorm2d(width)
        s.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False); s.bn2 = nn.BatchNorm2d(width)
        s.conv3 = nn.Conv2d(width, o, 1, bias=False); s.bn3 = nn.BatchNorm2d(o)
        s.downsample = None if (stride == 1 and i == o) else nn.Sequential(nn.Conv2d(i, o, 1, stride, bias=False), nn.BatchNorm2d(o))

    def forward(s, x):
        y = torch.relu(s.bn1(s.conv1(x)))
        y = torch.relu(s.bn2(s.conv2(y)))
        y = s.bn3(s.conv3(y))
        return torch.relu(y + (x if s.downsample is None else s.downsample(x)))


def stage(i, width, blocks, stride):
    layers = [Bottleneck(i, width, stride)] + [Bottleneck(width * 4, width, 1) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def projector(dims):
    layers = []
    for k, (i, o) in enumerate(zip(dims, dims[1:])):
        layers.append(nn.Linear(i, o, bias=False))
        if k < len(dims) - 2:
            layers += [nn.BatchNorm1d(o), nn.ReLU()]
    return nn.Sequential(*layers)


stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
blocks = nn.ModuleList([nn.Sequential(stem, stage(64, 64, 3, 1)), stage(256, 128, 4, 2), stage(512, 256, 6, 2), stage(1024, 512, 3, 2)])
channels = [256, 512, 1024, 2048]
heads = nn.ModuleList([nn.Sequential(nn.Conv2d(c, a.head_dim, 1, bias=False), nn.BatchNorm2d(a.head_dim), nn.ReLU(),
                                     nn.AdaptiveAvgPool2d(1), nn.Flatten()) for c in channels])
projectors = nn.ModuleList([projector([a.head_dim] + [int(d) for d in a.projector.split("-")]) for _ in channels])
model = nn.ModuleList([blocks, heads, projectors]).to(device)
bn = nn.BatchNorm1d(int(a.projector.split("-")[-1]), affine=False).to(device)


def barlow_twins(z1, z2, lam=0.0051, scale=0.024):
    c = bn(z1.float()).T @ bn(z2.float()) / z1.shape[0]
    diagonal = torch.diagonal(c)
    return scale * ((diagonal - 1).pow(2).sum() + lam * (c.pow(2).sum() - diagonal.pow(2).sum()))


class LARS(torch.optim.Optimizer):
    """Barlow Twins' LARS: weight decay and the trust ratio only for weights of 2 or more dimensions."""
    def __init__(s, params, lr, weight_decay=1e-6, momentum=0.9, eta=0.001):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, eta=eta))

    @torch.no_grad()
    def step(s):
        for g in s.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                dp = p.grad
                if p.ndim > 1:
                    dp = dp.add(p, alpha=g["weight_decay"])
                    pn, un = torch.norm(p), torch.norm(dp)
                    q = torch.where(pn > 0., torch.where(un > 0, g["eta"] * pn / un, torch.ones_like(pn)), torch.ones_like(pn))
                    dp = dp.mul(q)
                state = s.state[p]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(p)
                mu = state["mu"]
                mu.mul_(g["momentum"]).add_(dp)
                p.add_(mu, alpha=-g["lr"])


optimizer = LARS(model.parameters(), lr=0.2 * a.batch / 256)
views = torch.randn(2 * a.batch, 3, a.image_size, a.image_size, device=device)


def step():
    optimizer.zero_grad(set_to_none=True)
    x = views
    for k in range(4):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.bf16):
            x = blocks[k](x.detach() if k else x)
            x = x + 0.25 * torch.randn_like(x)
            z = projectors[k](heads[k](x))
        barlow_twins(z[:a.batch], z[a.batch:]).backward()
    optimizer.step()


def synchronize():
    if device.type == "cuda":
        torch.cuda.synchronize(device)


for _ in range(a.warmup):
    step()
synchronize()
if device.type == "cuda":
    torch.cuda.reset_peak_memory_stats(device)
start = time.perf_counter()
for _ in range(a.steps):
    step()
synchronize()
seconds = (time.perf_counter() - start) / a.steps
result = {"impl": "pytorch-reference", "torch": torch.__version__, "device": str(device), "bf16": a.bf16,
          "batch_size": a.batch, "image_size": a.image_size, "images_per_second": round(a.batch / seconds, 2)}
if device.type == "cuda":
    result["peak_cuda_allocated_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    result["peak_cuda_reserved_mib"] = round(torch.cuda.max_memory_reserved(device) / 2**20, 1)
else:
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(result))
