"""Multi-layer perceptron: flatten the input, then dense layers with a nonlinearity between."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch.nn as nn

from modelkit.fields import ConfigError, option

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "leaky_relu": nn.LeakyReLU, "silu": nn.SiLU}


@dataclass
class MLPConfig:
    arch: str = option("mlp", choices=("mlp",))
    hidden: list[int] = option([64, 64], low=1, high=4096)   # neurons per hidden layer, first to last
    activation: str = option("relu", choices=tuple(ACTIVATIONS))
    dropout: float = option(0.0, low=0.0, high=0.9)
    batch_norm: bool = option(False)

    def check(self, path: str):
        if not 1 <= len(self.hidden) <= 16:
            raise ConfigError(f"{path}.hidden", "hidden_layers", n=16, value=len(self.hidden))


class Dense(nn.Module):
    """One hidden layer: linear -> (batch norm) -> activation -> (dropout)."""

    def __init__(self, n_in: int, n_out: int, cfg: MLPConfig):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.norm = nn.BatchNorm1d(n_out) if cfg.batch_norm else nn.Identity()
        self.act = ACTIVATIONS[cfg.activation]()
        self.drop = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()

    def forward(self, x):
        return self.drop(self.act(self.norm(self.linear(x))))


class MLP(nn.Module):
    def __init__(self, cfg: MLPConfig, spec):
        super().__init__()
        widths = [math.prod(spec.input_shape), *cfg.hidden]
        self.flatten = nn.Flatten()
        self.hidden = nn.ModuleList(Dense(a, b, cfg) for a, b in zip(widths, widths[1:]))
        self.out = nn.Linear(widths[-1], spec.n_outputs)

    def forward(self, x):
        x = self.flatten(x)  # (B, F)
        for layer in self.hidden:
            x = layer(x)  # (B, hidden[i])
        return self.out(x)  # (B, n_outputs)
