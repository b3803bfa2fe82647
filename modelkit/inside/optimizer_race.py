"""The Learn page's optimizer race: real torch.optim optimizers on a 2-D loss surface."""
from __future__ import annotations

import torch

SURFACES = {  # name -> (loss of a (2,) tensor, the start every optimizer shares)
    "bowl": (lambda w: w[0] ** 2 + w[1] ** 2, (-2.0, 1.5)),
    "valley": (lambda w: 0.05 * w[0] ** 2 + 2.0 * w[1] ** 2, (-3.5, 1.0)),
    "saddle": (lambda w: w[0] ** 2 - w[1] ** 2 + 0.25 * w[1] ** 4, (-2.0, 0.05)),
}
OPTIMIZER_PATHS = ("gd", "sgd_noise", "momentum", "adam")


def _surface_optimizer(name: str, params, lr: float):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=0.9 if name == "momentum" else 0.0)


def optimizer_paths(surface: str, lr: float, steps: int = 60, noise: float = 1.0, seed: int = 0) -> dict:
    """Where GD, SGD (noisy gradients), momentum and Adam go from the same start: name -> (steps+1, 2)."""
    loss_of, start = SURFACES[surface]
    paths = {}
    for name in OPTIMIZER_PATHS:
        w = torch.tensor(start, requires_grad=True)
        optimizer = _surface_optimizer(name, [w], lr)
        gen = torch.Generator().manual_seed(seed)
        path = [w.detach().clone()]
        for _ in range(steps):
            optimizer.zero_grad()
            loss_of(w).backward()
            if name == "sgd_noise":  # a mini-batch's gradient: the true one plus noise
                w.grad += noise * torch.randn(2, generator=gen)
            optimizer.step()
            with torch.no_grad():
                w.clamp_(-10.0, 10.0)  # a path that flies off stays on the chart's edge
            path.append(w.detach().clone())
        paths[name] = torch.stack(path).numpy()
    return paths


def surface_grid(surface: str, extent: float = 4.0, resolution: int = 60) -> dict:
    loss_of = SURFACES[surface][0]
    axis = torch.linspace(-extent, extent, resolution)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    return {"xs": axis.numpy(), "ys": axis.numpy(), "z": loss_of(torch.stack([gx, gy])).numpy()}


def path_losses(surface: str, paths: dict) -> dict:
    """The loss at every point of each optimizer's path: name -> (steps+1,)."""
    loss_of = SURFACES[surface][0]
    return {name: loss_of(torch.as_tensor(path).T).numpy() for name, path in paths.items()}
