"""Transformer encoder: tokens look at each other through self-attention.

Text: one token per character, with a causal mask so each position sees only the
past. Sequences and images: the input is cut into patches (a strided convolution),
one token per patch. Positions enter as a sinusoidal or learned encoding; classes
and forecasts come from the mean of the tokens or from a class token.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from modelkit.fields import ConfigError, option


@dataclass
class TransformerConfig:
    arch: str = option("transformer", choices=("transformer",))
    d_model: int = option(64, low=4, high=2048)         # the vector that stands for each token
    heads: int = option(4, low=1, high=64)              # must divide d_model
    layers: int = option(2, low=1, high=24)
    ff_width: int = option(128, low=1, high=8192)       # the dense network inside each block
    dropout: float = option(0.0, low=0.0, high=0.9)
    positional: str = option("learned", choices=("sinusoidal", "learned"))
    patch: int = option(4, low=1, high=64, when={"input": ("sequence", "image")})    # values per token
    stride: int = option(0, low=0, high=64, when={"input": ("sequence", "image")})   # 0: same as patch
    pooling: str = option("mean", choices=("mean", "cls"), when={"input": ("sequence", "image")})

    def check(self, path: str):
        if self.d_model % self.heads:
            raise ConfigError(f"{path}.heads", "heads", heads=self.heads, width=self.d_model)
        if self.stride > self.patch:
            raise ConfigError(f"{path}.stride", "stride", patch=self.patch)


class SelfAttention(nn.Module):
    def __init__(self, cfg: TransformerConfig, causal: bool):
        super().__init__()
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)  # query, key, value for all heads at once
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.heads, self.causal, self.p = cfg.heads, causal, cfg.dropout
        self.keep_maps, self.maps = False, None  # attention_maps() switches recording on

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2)
                   for t in self.qkv(x).split(C, dim=2))  # (B, nh, T, hs)
        if self.keep_maps:
            att = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])  # (B, nh, T, T)
            if self.causal:
                att = att.masked_fill(torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1), float("-inf"))
            self.maps = att.softmax(dim=-1)
            y = self.maps @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal,
                                               dropout_p=self.p if self.training else 0.0)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.drop(self.proj(y))


class FeedForward(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.fc = nn.Linear(cfg.d_model, cfg.ff_width)
        self.act = nn.GELU()
        self.proj = nn.Linear(cfg.ff_width, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.drop(self.proj(self.act(self.fc(x))))


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig, causal: bool):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.d_model)
        self.attn = SelfAttention(cfg, causal)
        self.ln_2 = nn.LayerNorm(cfg.d_model)
        self.mlp = FeedForward(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class PatchEmbedding(nn.Module):
    """Cuts a sequence (B, L) or image (B, C, H, W) into patches, one d_model vector each."""

    def __init__(self, cfg: TransformerConfig, spec):
        super().__init__()
        stride = cfg.stride or cfg.patch
        self.image = spec.input_kind == "image"
        size = min(spec.input_shape[1:]) if self.image else spec.input_shape[0]
        if cfg.patch > size:
            raise ConfigError("model.patch", "patch", patch=cfg.patch, size=size)
        if self.image:
            self.conv = nn.Conv2d(spec.input_shape[0], cfg.d_model, cfg.patch, stride)
        else:
            self.conv = nn.Conv1d(spec.channels, cfg.d_model, cfg.patch, stride)

    def forward(self, x):
        if not self.image:
            x = x.unsqueeze(1) if x.dim() == 2 else x.transpose(1, 2)  # (B, L) or (B, L, C) -> (B, C, L)
        x = self.conv(x)  # (B, C, T') or (B, C, H', W')
        return x.flatten(2).transpose(1, 2)  # (B, T, C)


def sinusoidal(n: int, d: int) -> torch.Tensor:
    pos = torch.arange(n).unsqueeze(1)  # (n, 1)
    freq = torch.exp(torch.arange(0, d, 2) * (-math.log(10_000.0) / d))  # (d/2,)
    pe = torch.zeros(n, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: d // 2])
    return pe.unsqueeze(0)  # (1, n, d)


class Transformer(nn.Module):
    def __init__(self, cfg: TransformerConfig, spec):
        super().__init__()
        self.lm = spec.kind == "lm"
        self.pooling = cfg.pooling
        if spec.input_kind == "tokens":
            self.embed = nn.Embedding(spec.n_outputs, cfg.d_model)
            n_tokens = spec.input_shape[0]
        else:
            self.embed = PatchEmbedding(cfg, spec)
            with torch.no_grad():
                n_tokens = self.embed(torch.zeros(1, *spec.input_shape)).shape[1]
        use_cls = cfg.pooling == "cls" and not self.lm
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.d_model)) if use_cls else None
        n_pos = n_tokens + use_cls
        if cfg.positional == "learned":
            self.pos = nn.Parameter(0.02 * torch.randn(1, n_pos, cfg.d_model))
        else:
            self.register_buffer("pos", sinusoidal(n_pos, cfg.d_model), persistent=False)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg, causal=self.lm) for _ in range(cfg.layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.out = nn.Linear(cfg.d_model, spec.n_outputs)

    def forward(self, x):
        x = self.embed(x)  # (B, T, C)
        if self.cls is not None:
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)  # (B, 1+T, C)
        if x.shape[1] > self.pos.shape[1]:
            raise ValueError(f"input of {x.shape[1]} tokens is longer than the {self.pos.shape[1]} positions "
                             f"this model was built for")
        x = self.drop(x + self.pos[:, : x.shape[1]])
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        if self.lm:
            return self.out(x)  # (B, T, vocab)
        x = x[:, 0] if self.cls is not None else x.mean(dim=1)  # (B, C)
        return self.out(x)  # (B, n_outputs)

    @torch.no_grad()
    def attention_maps(self, x) -> list[torch.Tensor]:
        """Attention weights of every layer, each (B, heads, T, T); rows sum to 1."""
        attns = [block.attn for block in self.blocks]
        was_training = self.training
        self.eval()
        try:
            for a in attns:
                a.keep_maps = True
            self(x)
            return [a.maps for a in attns]
        finally:
            for a in attns:
                a.keep_maps, a.maps = False, None
            self.train(was_training)
