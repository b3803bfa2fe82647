"""Recurrent networks: read the input one step at a time, carrying a hidden state along.

A sequence is read `patch` values per step, an image one row per step, a text one
character per step. For classes and forecasts the final hidden state (or the mean
over all steps) feeds a linear head; for text every step predicts the next character.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from modelkit.fields import ConfigError, option

CELLS = ("rnn", "lstm", "gru")


@dataclass
class RNNConfig:
    arch: str = option("rnn", choices=CELLS)
    cell: str | None = option(None, choices=CELLS, when={"arch": ("rnn",)})   # None: the architecture's own
    hidden_size: int = option(64, low=1, high=2048)
    layers: int = option(1, low=1, high=8)
    bidirectional: bool = option(False, when={"input": ("sequence", "image")})   # text must not see ahead
    dropout: float = option(0.0, low=0.0, high=0.9)
    patch: int = option(1, low=1, high=64, when={"input": ("sequence",)})        # values read per step
    pooling: str = option("last", choices=("last", "mean"), when={"input": ("sequence", "image")})
    embed_dim: int = option(32, low=1, high=1024, when={"input": ("tokens",)})

    def __post_init__(self):
        if self.cell is None:
            self.cell = self.arch

    def check(self, path: str):
        if self.arch != "rnn" and self.cell != self.arch:
            raise ConfigError(f"{path}.cell", "cell")


class RNN(nn.Module):
    def __init__(self, cfg: RNNConfig, spec):
        super().__init__()
        if spec.input_kind == "tokens" and cfg.bidirectional:
            raise ConfigError("model.bidirectional", "bidirectional")
        self.kind, self.input_kind = spec.kind, spec.input_kind
        self.patch, self.pooling = cfg.patch, cfg.pooling
        if spec.input_kind == "tokens":
            self.embed = nn.Embedding(spec.n_outputs, cfg.embed_dim)
            n_in = cfg.embed_dim
        elif spec.input_kind == "image":
            c, h, w = spec.input_shape
            n_in = c * w  # one row of pixels per step
        else:
            n_in = cfg.patch * spec.channels
        Cell = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cfg.cell]
        self.rnn = Cell(n_in, cfg.hidden_size, num_layers=cfg.layers, batch_first=True,
                        bidirectional=cfg.bidirectional, dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.dirs = 2 if cfg.bidirectional else 1
        self.out = nn.Linear(cfg.hidden_size * self.dirs, spec.n_outputs)

    def steps(self, x):
        """The input as a batch of step sequences (B, T, n_in)."""
        if self.input_kind == "tokens":
            return self.embed(x)  # (B, T, E)
        if self.input_kind == "image":
            b, c, h, w = x.shape
            return x.permute(0, 2, 1, 3).reshape(b, h, c * w)  # rows as steps: (B, H, C*W)
        x = x if x.dim() == 3 else x.unsqueeze(-1)  # (B, L, C): C values per step
        pad = (-x.shape[1]) % self.patch
        x = F.pad(x, (0, 0, pad, 0))  # left-pad so the newest values fill the last step
        return x.reshape(x.shape[0], -1, self.patch * x.shape[2])  # (B, L/patch, patch*C)

    def forward(self, x):
        out, h = self.rnn(self.steps(x))  # out (B, T, dirs*H)
        if self.kind == "lm":
            return self.out(out)  # (B, T, vocab)
        if self.pooling == "mean":
            return self.out(out.mean(dim=1))
        h = h[0] if isinstance(h, tuple) else h  # LSTM returns (h, c)
        last = h[-self.dirs:]  # last layer, each direction: (dirs, B, H)
        return self.out(torch.cat(list(last), dim=-1))  # (B, dirs*H) -> (B, n_outputs)
