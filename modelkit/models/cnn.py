"""Convolutional network: small filters slide along the signal (1-D) or image (2-D).

Each block is convolution -> (batch norm) -> activation -> pooling, which halves
the length (or height and width) while the number of channels grows; a dense head
reads the final feature maps and gives class logits or forecast values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from modelkit.fields import ConfigError, option
from modelkit.models.mlp import ACTIVATIONS


@dataclass
class CNNConfig:
    arch: str = option("cnn", choices=("cnn",))
    channels: list[int] = option([32, 32, 32], low=1, high=1024)   # filters per block, first to last
    kernel_size: int = option(5, low=1, high=31)
    pooling: str = option("max", choices=("max", "avg", "none"))   # each block halves the size, or not
    head: int = option(0, low=0, high=4096)                         # an extra dense layer; 0: none
    activation: str = option("relu", choices=tuple(ACTIVATIONS))
    batch_norm: bool = option(False)
    dropout: float = option(0.0, low=0.0, high=0.9)

    def check(self, path: str):
        if not 1 <= len(self.channels) <= 12:
            raise ConfigError(f"{path}.channels", "blocks", n=12, value=len(self.channels))


class ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, cfg: CNNConfig, dims: int, pool: bool):
        super().__init__()
        Conv, Norm = (nn.Conv1d, nn.BatchNorm1d) if dims == 1 else (nn.Conv2d, nn.BatchNorm2d)
        Pool = {"max": (nn.MaxPool1d, nn.MaxPool2d), "avg": (nn.AvgPool1d, nn.AvgPool2d)}.get(cfg.pooling)
        self.conv = Conv(c_in, c_out, cfg.kernel_size, padding=cfg.kernel_size // 2)  # keeps the size (odd kernels)
        self.norm = Norm(c_out) if cfg.batch_norm else nn.Identity()
        self.act = ACTIVATIONS[cfg.activation]()
        self.pool = Pool[dims - 1](2) if (Pool and pool) else nn.Identity()

    def forward(self, x):
        return self.pool(self.act(self.norm(self.conv(x))))  # (B, C, L/2) or (B, C, H/2, W/2)


class CNN(nn.Module):
    def __init__(self, cfg: CNNConfig, spec):
        super().__init__()
        self.dims = 1 if spec.input_kind == "sequence" else 2
        shape = (spec.channels, spec.input_shape[0]) if self.dims == 1 else tuple(spec.input_shape)  # (C, L) or (C, H, W)
        blocks, size = [], min(shape[1:])
        for c_in, c_out in zip([shape[0], *cfg.channels], cfg.channels):
            pool = size >= 2 * 2  # pool only while the maps stay at least 2 wide
            blocks.append(ConvBlock(c_in, c_out, cfg, self.dims, pool))
            size = size // 2 if pool and cfg.pooling != "none" else size
        self.blocks = nn.Sequential(*blocks)
        with torch.no_grad():
            n_flat = self.blocks(torch.zeros(1, *shape)).numel()
        self.flatten = nn.Flatten()
        self.drop = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        if cfg.head:
            self.hidden = nn.Sequential(nn.Linear(n_flat, cfg.head), ACTIVATIONS[cfg.activation]())
        else:
            self.hidden = nn.Identity()
        self.out = nn.Linear(cfg.head or n_flat, spec.n_outputs)

    def forward(self, x):
        if self.dims == 1:
            x = x.unsqueeze(1) if x.dim() == 2 else x.transpose(1, 2)  # (B, L) or (B, L, C) -> (B, C, L)
        x = self.blocks(x)  # (B, C, L') or (B, C, H', W')
        x = self.drop(self.flatten(x))  # (B, C * L')
        return self.out(self.hidden(x))  # (B, n_outputs)
