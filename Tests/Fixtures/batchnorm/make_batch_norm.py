"""Writes batch_norm.json: torch.nn.BatchNorm2d in float64, one training step then evaluation.

Run with a PyTorch install: python make_batch_norm.py (written with torch 2.13).
"""
import json

import torch

torch.manual_seed(0)
bn = torch.nn.BatchNorm2d(2, momentum=0.1, eps=1e-5).double()
with torch.no_grad():
    bn.weight.copy_(torch.tensor([1.5, -0.5], dtype=torch.float64))
    bn.bias.copy_(torch.tensor([0.25, 1.0], dtype=torch.float64))
    bn.running_mean.copy_(torch.tensor([0.1, -0.2], dtype=torch.float64))
    bn.running_var.copy_(torch.tensor([0.8, 1.3], dtype=torch.float64))
x = torch.randn(3, 2, 2, 2, dtype=torch.float64) * 2 + 0.5
before = {"running_mean": bn.running_mean.tolist(), "running_var": bn.running_var.tolist()}
bn.train()
with torch.no_grad():
    train_out = bn(x)
bn.eval()
with torch.no_grad():
    eval_out = bn(x)

fixture = {
    "torch_version": torch.__version__,
    "shape": list(x.shape),
    "x": x.flatten().tolist(),
    "weight": bn.weight.tolist(),
    "bias": bn.bias.tolist(),
    "momentum": 0.1,
    "eps": 1e-5,
    "running_mean_before": before["running_mean"],
    "running_var_before": before["running_var"],
    "train_output": train_out.flatten().tolist(),
    "running_mean_after": bn.running_mean.tolist(),
    "running_var_after": bn.running_var.tolist(),
    "eval_output": eval_out.flatten().tolist(),
}
with open("batch_norm.json", "w") as f:
    json.dump(fixture, f, indent=1)
