"""Writes the fixtures of the Torch NN and optimizer tests, computed once with PyTorch.

Run with a PyTorch that has torch.nn (any 1.13+):  python make_fixtures.py
Outputs, next to this script: layers.json, model.json, init.json, optim.json.
Each tensor is {"shape": [...], "data": [flat row-major values]}.
"""
import json
import math
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def t(x):
    x = x.detach()
    return {"shape": list(x.shape), "data": x.flatten().tolist()}


def state(module):
    return {k: t(v) for k, v in module.state_dict().items()}


def dump(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def layers():
    torch.manual_seed(0)
    cases = {}

    lin = nn.Linear(5, 3)
    x = torch.randn(4, 5)
    cases["linear"] = {"state": state(lin), "x": t(x), "y": t(lin(x))}

    lin = nn.Linear(5, 3, bias=False)
    cases["linear_nobias"] = {"state": state(lin), "x": t(x), "y": t(lin(x))}

    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    x = torch.randn(2, 4, 7, 6)
    cases["conv_groups"] = {"state": state(conv), "x": t(x), "y": t(conv(x))}

    conv = nn.Conv2d(3, 4, (3, 1), stride=(1, 2), padding=(2, 0), dilation=(2, 1), bias=False)
    x = torch.randn(2, 3, 6, 5)
    cases["conv_nobias"] = {"state": state(conv), "x": t(x), "y": t(conv(x))}

    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    initial = state(bn)
    xs = [torch.randn(4, 3, 5, 5) * 2 + 1 for _ in range(3)]
    bn.train()
    y1 = bn(xs[0])
    y2 = bn(xs[1])
    after_train = state(bn)
    bn.eval()
    y3 = bn(xs[2])
    cases["batchnorm2d"] = {"state": initial, "x1": t(xs[0]), "x2": t(xs[1]), "x3": t(xs[2]),
                            "y1": t(y1), "y2": t(y2), "y3_eval": t(y3), "state_after": after_train}

    bn = nn.BatchNorm2d(3, momentum=None)
    for x in xs:
        bn(x)
    cases["batchnorm2d_cumulative"] = {"x1": t(xs[0]), "x2": t(xs[1]), "x3": t(xs[2]), "state_after": state(bn)}

    bn = nn.BatchNorm1d(6, affine=False, momentum=0.3, eps=1e-3)
    x2d = torch.randn(8, 6)
    x3d = torch.randn(4, 6, 5)
    y2d = bn(x2d)
    y3d = bn(x3d)
    cases["batchnorm1d"] = {"x2d": t(x2d), "x3d": t(x3d), "y2d": t(y2d), "y3d": t(y3d), "state_after": state(bn)}

    bn = nn.BatchNorm2d(3, track_running_stats=False)
    bn.eval()
    x = torch.randn(2, 3, 4, 4)
    cases["batchnorm2d_untracked_eval"] = {"x": t(x), "y": t(bn(x)), "keys": list(bn.state_dict().keys())}

    pool = nn.MaxPool2d(3, stride=2, padding=1)
    x = torch.randn(2, 3, 9, 9)
    cases["maxpool"] = {"x": t(x), "y": t(pool(x))}

    pool = nn.MaxPool2d(2, ceil_mode=True)
    x = torch.randn(1, 2, 7, 7)
    cases["maxpool_ceil"] = {"x": t(x), "y": t(pool(x))}

    pool = nn.AdaptiveAvgPool2d((2, 3))
    x = torch.randn(2, 3, 7, 5)
    cases["adaptive_avgpool"] = {"x": t(x), "y": t(pool(x)), "y_global": t(nn.AdaptiveAvgPool2d(1)(x))}
    return cases


class BasicBlock(nn.Module):
    """A torchvision ResNet BasicBlock in miniature, to fix the dotted names."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(4, 4, 1), BasicBlock(4, 8, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def model():
    torch.manual_seed(1)
    net = TinyResNet()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    initial = state(net)
    keys = list(net.state_dict().keys())
    x = torch.randn(2, 3, 8, 8)
    y_train = net(x)
    after = state(net)
    net.eval()
    y_eval = net(x)
    return {"keys": keys, "parameter_names": [n for n, _ in net.named_parameters()],
            "buffer_names": [n for n, _ in net.named_buffers()],
            "parameter_count": sum(p.numel() for p in net.parameters()), "module_count": len(list(net.modules())),
            "state": initial, "x": t(x), "y_train": t(y_train), "state_after_train": after, "y_eval": t(y_eval)}


def init():
    shapes = [[3, 4], [6, 2, 3, 3], [8, 4, 1, 1], [5, 7, 2]]
    configs = [("a=sqrt5,fan_in,leaky_relu", math.sqrt(5), "fan_in", "leaky_relu"),
               ("a=0,fan_out,relu", 0, "fan_out", "relu"),
               ("a=0,fan_in,tanh", 0, "fan_in", "tanh"),
               ("a=0.2,fan_out,leaky_relu", 0.2, "fan_out", "leaky_relu"),
               ("a=0,fan_in,linear", 0, "fan_in", "linear")]
    bounds = []
    for shape in shapes:
        w = torch.empty(shape)
        fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(w)
        for label, a, mode, nonlinearity in configs:
            gain = nn.init.calculate_gain(nonlinearity, a)
            fan = nn.init._calculate_correct_fan(w, mode)
            std = gain / math.sqrt(fan)
            bounds.append({"shape": shape, "config": label, "fan_in": fan_in, "fan_out": fan_out, "gain": gain,
                           "std": std, "bound": math.sqrt(3.0) * std})

    torch.manual_seed(11)
    linear = nn.Linear(5, 3)
    torch.manual_seed(12)
    conv = nn.Conv2d(4, 6, 3, groups=2)
    g = torch.Generator().manual_seed(13)
    normal = torch.empty(8, 4, 3, 3).normal_(0, nn.init.calculate_gain("relu") / math.sqrt(8 * 9), generator=g)
    torch.manual_seed(13)
    reference = torch.empty(8, 4, 3, 3)
    nn.init.kaiming_normal_(reference, mode="fan_out", nonlinearity="relu")
    assert torch.equal(normal, reference)
    return {"bounds": bounds, "linear_seed11": state(linear), "conv_groups2_seed12": state(conv),
            "kaiming_normal_fan_out_relu_seed13": t(reference)}


def lars_reference_step(groups, state, momentum=0.9, eta=0.001):
    """The update rule of the Barlow Twins LARS, written out for these fixtures."""
    with torch.no_grad():
        for g in groups:
            for p in g["params"]:
                d = p.grad
                if p.ndim != 1:
                    d = d + g["weight_decay"] * p
                    pn, dn = torch.norm(p), torch.norm(d)
                    ratio = torch.where((pn > 0) & (dn > 0), eta * pn / dn, torch.ones_like(pn))
                    d = d * ratio
                mu = state.setdefault(id(p), torch.zeros_like(p))
                mu.mul_(momentum).add_(d)
                p.add_(mu, alpha=-g["lr"])


def optim():
    torch.manual_seed(2)
    w0 = torch.randn(3, 4)
    b0 = torch.randn(4)
    z0 = torch.zeros(2, 2)  # a parameter of norm 0: the trust ratio falls back to 1
    grads = [[torch.randn(3, 4), torch.randn(4), torch.randn(2, 2)] for _ in range(3)]
    grads[1][2] = torch.zeros(2, 2)  # a zero update norm too
    cases = {"initial": [t(w0), t(b0), t(z0)], "grads": [[t(g) for g in step] for step in grads]}

    def run(make, stepper=None):
        params = [w0.clone().requires_grad_(), b0.clone().requires_grad_(), z0.clone().requires_grad_()]
        opt = make(params)
        trajectory = []
        for step in grads:
            for p, g in zip(params, step):
                p.grad = g.clone()
            if stepper:
                stepper(opt)
            else:
                opt.step()
            trajectory.append([t(p) for p in params])
        return trajectory

    cases["sgd_plain"] = run(lambda ps: torch.optim.SGD(ps, lr=0.1))
    cases["sgd_momentum_dampening_wd"] = run(
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01))
    cases["sgd_nesterov_wd"] = run(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.02))
    cases["adamw"] = run(lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1))

    def lars(params):
        groups = [{"params": [p for p in params if p.ndim != 1], "lr": 0.2, "weight_decay": 0.01},
                  {"params": [p for p in params if p.ndim == 1], "lr": 0.0048, "weight_decay": 0.01}]
        return groups, {}

    cases["lars"] = run(lars, stepper=lambda o: lars_reference_step(*o))
    return cases


if __name__ == "__main__":
    dump("layers.json", layers())
    dump("model.json", model())
    dump("init.json", init())
    dump("optim.json", optim())
    print("torch", torch.__version__)
