"""Writes random.json: what a CPU torch.Generator seeded with 0 draws first.

Run with a PyTorch install: python make_random.py (torch 1.13 and 2.13 give the same numbers).
"""
import json

import torch

g = torch.Generator().manual_seed(0)
fixture = {"torch_version": torch.__version__, "seed": 0}
fixture["randn_float64_5"] = torch.randn(5, generator=g, dtype=torch.float64).tolist()
g.manual_seed(0)
fixture["randn_float32_20"] = torch.randn(20, generator=g).tolist()
g.manual_seed(0)
fixture["rand_float64_5"] = torch.rand(5, generator=g, dtype=torch.float64).tolist()
g.manual_seed(0)
fixture["randint_0_10_6"] = torch.randint(0, 10, (6,), generator=g).tolist()
g.manual_seed(0)
fixture["randperm_6"] = torch.randperm(6, generator=g).tolist()
with open("random.json", "w") as f:
    json.dump(fixture, f, indent=1)
