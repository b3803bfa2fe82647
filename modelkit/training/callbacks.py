"""Training-time callbacks that look inside: per-layer gradient norms while a model learns."""
from __future__ import annotations

import math

import torch
import torch.nn as nn

GRAD_EVERY = 10          # at least this many steps between two gradient-norm readings (and step 1)
GRAD_MIN_SECONDS = 0.05  # and at least this much training time
GRAD_PREFIX = "grad_norm/"


def layer_of(param_name: str) -> str:
    return param_name.rsplit(".", 1)[0] if "." in param_name else param_name


class GradientNorms:
    """A training callback: each layer's gradient norm now and then, as points `grad_norm/<layer>`.

    It reads at step 1, then at most every `every` steps and `min_seconds` of training,
    so a reading (one fused norm over all gradients, one device sync) stays far below
    1 % of the time. It reads the gradients `optimizer.step()` has just used. Points go
    out through `sink.on_eval` (the run's Recorder). `fit` hands it the model in on_fit_begin.
    """

    def __init__(self, sink, model: nn.Module | None = None, every: int = GRAD_EVERY,
                 min_seconds: float = GRAD_MIN_SECONDS):
        self.sink, self.model, self.every, self.min_seconds = sink, model, every, min_seconds
        self.layers, self.params, self.index = [], [], None
        self.last = (0, -math.inf)

    def on_fit_begin(self, model=None, **info):
        self.model = model or self.model
        if self.model is not None:
            self._group()

    def _group(self):
        """The parameters in order, each with the index of its layer."""
        index = []
        for name, p in self.model.named_parameters():
            if p.requires_grad:
                layer = layer_of(name)
                if layer not in self.layers:
                    self.layers.append(layer)
                self.params.append(p)
                index.append(self.layers.index(layer))
        self.index = torch.tensor(index)

    def on_step(self, step, epoch, seconds, **info):
        last_step, last_seconds = self.last
        if self.index is None or (step != 1 and (step - last_step < self.every
                                                 or seconds - last_seconds < self.min_seconds)):
            return
        self.last = (step, seconds)
        have = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not have:
            return
        norms = torch.stack(torch._foreach_norm([self.params[i].grad for i in have])).float()
        index = (self.index if len(have) == len(self.params) else self.index[have]).to(norms.device)
        squares = torch.zeros(len(self.layers), device=norms.device).index_add_(0, index, norms.square())
        values = squares.sqrt().cpu().tolist()  # one sync for all layers
        layers = set(index.tolist())
        self.sink.on_eval(step=step, epoch=epoch, seconds=seconds,
                          metrics={GRAD_PREFIX + n: v for i, (n, v) in enumerate(zip(self.layers, values))
                                   if i in layers})
