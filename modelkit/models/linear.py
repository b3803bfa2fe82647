"""Linear baseline: every input connects straight to every output, no hidden layer.

On numbers (vector, image, sequence) this is logistic regression for classes and
linear regression for forecasts. On text it is a bigram model: the embedding row
of the current character *is* the logits of the next one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch.nn as nn

from modelkit.fields import option


@dataclass
class LinearConfig:
    arch: str = option("linear", choices=("linear",))


class Linear(nn.Module):
    """Logistic / linear regression on the flattened input."""

    def __init__(self, cfg: LinearConfig, spec):
        super().__init__()
        self.flatten = nn.Flatten()
        self.out = nn.Linear(math.prod(spec.input_shape), spec.n_outputs)

    def forward(self, x):
        return self.out(self.flatten(x))  # (B, n_outputs)


class Bigram(nn.Module):
    """Next character from the current one alone: a (vocab x vocab) table of logits."""

    def __init__(self, cfg: LinearConfig, spec):
        super().__init__()
        self.table = nn.Embedding(spec.n_outputs, spec.n_outputs)

    def forward(self, idx):
        return self.table(idx)  # (B, T) -> (B, T, vocab)


def build_linear(cfg: LinearConfig, spec) -> nn.Module:
    return Bigram(cfg, spec) if spec.input_kind == "tokens" else Linear(cfg, spec)
