"""What a run will need, known before it starts: memory from the model's shapes, never from real tensors.

    need = estimate_memory(config, spec)   # bytes: weights, gradients, optimizer state, activations
    check_memory(config)                   # ConfigError("model", "too_big", ...) above a worker's share

The model is built on PyTorch's meta device (shapes without storage) and one
forward pass of a training batch is traced there, so a ten-billion-parameter
configuration is measured in milliseconds and refused with its estimate, while
the server's memory stays where it was.
"""
from __future__ import annotations

import os

import torch

from modelkit import models, settings
from modelkit.data import tasks
from modelkit.fields import ConfigError

BYTES = 4                      # float32
OPTIMIZER_STATES = {"gd": 0, "sgd": 1, "adam": 2, "adamw": 2, "rmsprop": 1}   # tensors kept per weight
BACKWARD_FACTOR = 2            # what autograd keeps for the backward pass, roughly, per activation
CAP_BYTES = 2 * 1024**3        # a workshop run never needs more, whatever the machine


def physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def run_memory_limit() -> int:
    """Bytes one run may use: MODELKIT_RUN_MEMORY_MB, else half the machine shared by the workers the
    pool starts (2 GB at most)."""
    asked = settings.run_memory_mb()
    if asked:
        return int(asked * 1024**2)
    return min(CAP_BYTES, physical_memory() // 2 // settings.workers())


def _activation_counter(total: list):
    def hook(module, inputs, output):
        outs = output if isinstance(output, (tuple, list)) else (output,)
        total[0] += sum(o.numel() for o in outs if torch.is_tensor(o))
        heads = getattr(module, "heads", None)
        if heads and torch.is_tensor(outs[0]) and outs[0].dim() == 3:   # attention weights: (B, heads, T, T)
            batch, steps = outs[0].shape[:2]
            total[0] += batch * heads * steps * steps
    return hook


def estimate_memory(config, spec, n_train: int, data_bytes: int = 0) -> int:
    """Bytes a run of `config` on a task shaped like `spec` (n_train examples) needs while it trains."""
    model = models.build_on_meta(config.model, spec)
    params = models.count_params(model)
    batch = n_train if config.train.optimizer == "gd" else min(config.train.batch_size, n_train)
    total = [0]
    leaves = [m for m in model.modules() if not any(True for _ in m.children()) or getattr(m, "heads", None)]
    hooks = [m.register_forward_hook(_activation_counter(total)) for m in leaves]
    try:
        with torch.no_grad():
            model(models.example_input(spec, batch=batch).to("meta"))
    finally:
        for h in hooks:
            h.remove()
    states = 2 + OPTIMIZER_STATES.get(config.train.optimizer, 2)   # weights, gradients, optimizer state
    return BYTES * (params * states + BACKWARD_FACTOR * total[0]) + data_bytes


def data_memory(data) -> int:
    return sum(t.nbytes for t in (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test))


def check_memory(config):
    """Refuse a run that would need more memory than a worker may use, naming the estimate."""
    data = tasks.load(config.task)
    need = estimate_memory(config, data.spec, len(data.x_train), data_memory(data))
    limit = run_memory_limit()
    if need > limit:
        raise ConfigError("model", "too_big", need=_size(need), limit=_size(limit))
    return need


def _size(n: int) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:.0f} MB"

