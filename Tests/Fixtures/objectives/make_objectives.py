"""Reference values of the objectives, computed with PyTorch by the reference implementations:
Barlow Twins as facebookresearch/barlowtwins main.py (BatchNorm1d(affine=False), c / N),
VICReg as facebookresearch/vicreg main_vicreg.py, NT-Xent as SimCLR (2N-2 negatives).
Run: /opt/refpy/bin/python make_objectives.py > objectives.json"""
import json
import torch
import torch.nn.functional as F

torch.manual_seed(0)


def off_diagonal(x):
    n, m = x.shape
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def barlow_twins(z1, z2, lambd, target, scale):
    bn = torch.nn.BatchNorm1d(z1.shape[1], affine=False).double()
    c = bn(z1).T @ bn(z2)
    c.div_(z1.shape[0])
    on_diag = torch.diagonal(c).add(-target).pow(2).sum()
    off_diag = off_diagonal(c).pow(2).sum()
    return scale * (on_diag + lambd * off_diag)


def vicreg(x, y):
    n, d = x.shape
    repr_loss = F.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + 0.0001)
    std_y = torch.sqrt(y.var(dim=0) + 0.0001)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (n - 1)
    cov_y = (y.T @ y) / (n - 1)
    cov_loss = off_diagonal(cov_x).pow(2).sum().div(d) + off_diagonal(cov_y).pow(2).sum().div(d)
    return 25 * repr_loss + 25 * std_loss + 1 * cov_loss


def nt_xent(z1, z2, t):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / t
    loss = 0.0
    for i in range(2 * n):
        p = (i + n) % (2 * n)
        denom = sum(torch.exp(sim[i, k]) for k in range(2 * n) if k != i)
        loss += -torch.log(torch.exp(sim[i, p]) / denom)
    return loss / (2 * n)


cases = []
for n, d in [(8, 4), (16, 6)]:
    z1 = torch.randn(n, d, dtype=torch.float64)
    z2 = z1 + 0.5 * torch.randn(n, d, dtype=torch.float64)
    cases.append({
        "n": n, "d": d, "zA": z1.flatten().tolist(), "zB": z2.flatten().tolist(),
        "barlow_twins": barlow_twins(z1, z2, 0.0051, 1.0, 1.0).item(),
        "barlow_twins_target_0.6_lambda_0.1_scale_0.024": barlow_twins(z1, z2, 0.1, 0.6, 0.024).item(),
        "vicreg": vicreg(z1, z2).item(),
        "simclr_t0.1": nt_xent(z1, z2, 0.1).item(),
        "simclr_t0.5": nt_xent(z1, z2, 0.5).item(),
    })
print(json.dumps({"torch": torch.__version__, "cases": cases}, indent=1))
