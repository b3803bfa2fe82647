"""Linear baseline: every input connects straight to every output, no hidden layer.

On numbers (vector, image, sequence) this is logistic regression for classes and
linear regression for forecasts. On text it is a bigram model: the embedding row
of the current character *is* the logits of the next one. A vocabulary of more than
TABLE_RANK characters (the Chinese poems have about 2,500) gets a table of rank
TABLE_RANK instead, two thin factors with nothing between them: still linear, and a
few hundred thousand numbers rather than vocab² (6 million, over a room's size limit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch.nn as nn

from modelkit.fields import option

TABLE_RANK = 256


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
    """Next character from the current one alone: a (vocab x vocab) table of logits, factored above TABLE_RANK."""

    def __init__(self, cfg: LinearConfig, spec):
        super().__init__()
        vocab = spec.n_outputs
        self.table = nn.Embedding(vocab, min(vocab, TABLE_RANK))
        self.out = nn.Linear(TABLE_RANK, vocab) if vocab > TABLE_RANK else nn.Identity()

    def forward(self, idx):
        return self.out(self.table(idx))  # (B, T) -> (B, T, vocab)


def build_linear(cfg: LinearConfig, spec) -> nn.Module:
    return Bigram(cfg, spec) if spec.input_kind == "tokens" else Linear(cfg, spec)
