"""Model registry: each architecture's config, what it fits, its defaults, and `build`.

    cfg = parse(model_config_class("gru"), default_model_dict("gru", "mnist1d"), "model")
    model = build(cfg, spec)          # a torch.nn.Module for that TaskSpec

Outputs follow the task kind: classification (B, classes) logits, regression
(B, horizon) values, lm (B, T, vocab) logits.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn

from modelkit.config import ConfigError
from modelkit.models.cnn import CNN, CNNConfig
from modelkit.models.linear import LinearConfig, build_linear
from modelkit.models.mlp import MLP, MLPConfig
from modelkit.models.rnn import RNN, RNNConfig
from modelkit.models.transformer import Transformer, TransformerConfig


@dataclass(frozen=True)
class Family:
    config: type                      # the dataclass of its settings
    make: Callable[..., nn.Module]    # (config, spec) -> module
    inputs: tuple                     # input kinds it makes sense on


ARCHS: dict[str, Family] = {
    "linear": Family(LinearConfig, build_linear, ("vector", "image", "sequence", "tokens")),
    "mlp": Family(MLPConfig, MLP, ("vector", "image", "sequence")),
    "cnn": Family(CNNConfig, CNN, ("image", "sequence")),
    "rnn": Family(RNNConfig, RNN, ("sequence", "image", "tokens")),
    "lstm": Family(RNNConfig, RNN, ("sequence", "image", "tokens")),
    "gru": Family(RNNConfig, RNN, ("sequence", "image", "tokens")),
    "transformer": Family(TransformerConfig, Transformer, ("sequence", "image", "tokens")),
}

ARCH_DESCRIPTIONS = {
    "linear": "One layer straight from inputs to outputs (logistic or linear regression; a bigram table on text): "
              "the baseline to beat.",
    "mlp": "A plain deep network: stacked layers of neurons, each connected to all neurons of the layer before.",
    "cnn": "A convolutional network: small filters slide over the signal or image to find local patterns, "
           "and pooling shrinks it step by step.",
    "rnn": "A recurrent network: reads the input step by step, carrying a memory (hidden state) along.",
    "lstm": "A recurrent network with gates and a separate memory cell, so it remembers over longer spans.",
    "gru": "A recurrent network with a lighter set of gates than the LSTM; often as good and faster.",
    "transformer": "A Transformer: every piece of the input looks at every other piece through self-attention, "
                   "with positions added so order is not lost.",
}

# Per-task sizes: a family's entries for "*" (every task), the input kind, then the task name.
MODEL_DEFAULTS: dict[str, dict[str, dict]] = {
    "mlp": {"vector": {"hidden": [32, 32]}, "spiral": {"hidden": [64, 64, 64]},
            "digits": {"hidden": [128, 64]}, "mnist1d": {"hidden": [256, 256], "dropout": 0.3},
            "sine": {"hidden": [64, 64]}},
    "cnn": {"digits": {"channels": [16, 32], "kernel_size": 3, "head": 64},
            "mnist1d": {"channels": [32, 32, 32], "kernel_size": 5, "batch_norm": True},
            "sine": {"channels": [16, 32], "kernel_size": 5}},
    # mnist1d: two values per step halves the steps; a wide memory is what gets past 0.95
    "rnn": {"image": {"hidden_size": 64}, "mnist1d": {"hidden_size": 128, "patch": 2},
            "sine": {"hidden_size": 32}, "tokens": {"hidden_size": 128, "embed_dim": 32}},
    # sequences: overlapping patches (5 values, every 3) instead of one token per value
    "transformer": {"digits": {"d_model": 64, "patch": 4, "stride": 2, "heads": 4, "layers": 2, "ff_width": 128},
                    "mnist1d": {"d_model": 64, "patch": 5, "stride": 3, "heads": 4, "layers": 2, "ff_width": 128},
                    "sine": {"d_model": 32, "patch": 4, "heads": 4, "layers": 2, "ff_width": 64, "pooling": "cls"},
                    "tokens": {"d_model": 64, "heads": 4, "layers": 2, "ff_width": 256}},
}

# Training settings that suit an architecture better than the task's own defaults (same lookup).
TRAIN_DEFAULTS: dict[str, dict[str, dict]] = {
    "linear": {"mnist1d": {"lr": 0.01, "schedule": "cosine"}, "sine": {"epochs": 60}},
    "mlp": {"mnist1d": {"schedule": "cosine"}, "sine": {"epochs": 60}},
    "cnn": {"mnist1d": {"epochs": 30, "schedule": "cosine"}, "sine": {"epochs": 60}},
    "rnn": {"*": {"grad_clip": 1.0},  # recurrent gradients can spike; clipping keeps a high lr safe
            "mnist1d": {"lr": 0.01, "schedule": "cosine"}, "sine": {"epochs": 60, "lr": 0.01},
            "tokens": {"lr": 0.01}},
    "transformer": {"*": {"schedule": "warmup_cosine"},  # attention is unstable at full lr on step one
                    "mnist1d": {"lr": 0.003, "batch_size": 128, "epochs": 30}, "sine": {"epochs": 60},
                    "tokens": {"lr": 0.01, "grad_clip": 1.0}},
}


def _family_name(arch: str) -> str:
    return "rnn" if arch in ("lstm", "gru") else arch


def model_config_class(arch: str) -> type:
    if arch not in ARCHS:
        raise ConfigError("model.arch", f"unknown architecture {arch!r}; choose one of: {', '.join(ARCHS)}")
    return ARCHS[arch].config


def _input_kind(task_name: str) -> str:
    from modelkit.tasks import task_info

    return task_info(task_name).input_kind


def archs_for(task_name: str) -> list[str]:
    """The architectures that make sense on this task, in registry order."""
    kind = _input_kind(task_name)
    return [a for a, fam in ARCHS.items() if kind in fam.inputs]


def _check_fits(arch: str, task_name: str, input_kind: str):
    model_config_class(arch)
    if input_kind not in ARCHS[arch].inputs:
        fitting = [a for a, fam in ARCHS.items() if input_kind in fam.inputs]
        raise ConfigError("model.arch", f"{arch} does not fit {task_name}; architectures that fit "
                          f"{task_name}: {', '.join(fitting)}")


def _lookup(table: dict, arch: str, task_name: str, input_kind: str) -> dict:
    """Family-wide ("*"), then input-kind, then task-specific entries, later ones winning."""
    per_task = table.get(_family_name(arch), {})
    out = {}
    for key in ("*", input_kind, task_name):
        out.update(per_task.get(key, {}))
    return out


def default_model_dict(arch: str, task_name: str) -> dict:
    """The model section for `arch` on `task_name`: the family's defaults with per-task sizes."""
    kind = _input_kind(task_name)
    _check_fits(arch, task_name, kind)
    data = dataclasses.asdict(model_config_class(arch)(arch=arch))
    data.update(_lookup(MODEL_DEFAULTS, arch, task_name, kind))
    return data


def default_train_overrides(arch: str, task_name: str) -> dict:
    """TrainConfig fields that this architecture wants on this task (on top of the task's defaults)."""
    kind = _input_kind(task_name)
    _check_fits(arch, task_name, kind)
    return _lookup(TRAIN_DEFAULTS, arch, task_name, kind)


def build(model_cfg, spec) -> nn.Module:
    """A freshly initialised model for `spec`; refuses an architecture that does not fit the task."""
    _check_fits(model_cfg.arch, spec.name, spec.input_kind)
    return ARCHS[model_cfg.arch].make(model_cfg, spec)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def example_input(spec, batch: int = 2) -> torch.Tensor:
    """A batch of zeros (or token ids) shaped like the task's inputs."""
    if spec.input_kind == "tokens":
        return torch.zeros(batch, *spec.input_shape, dtype=torch.long)
    return torch.zeros(batch, *spec.input_shape)


def _shape_text(out) -> str:
    t = out[0] if isinstance(out, (tuple, list)) else out
    return "(" + ", ".join(["B", *map(str, t.shape[1:])]) + ")" if torch.is_tensor(t) else ""


def _shape_recorder(row: dict):
    def hook(module, inputs, output):
        row["output_shape"] = _shape_text(output)
    return hook


def summary(model: nn.Module, spec) -> list[dict]:
    """One row per layer that holds weights or has no sublayers: layer, type, output_shape, params.

    The params column sums to count_params(model); output shapes come from one
    forward pass on a batch of zeros, with the batch size shown as B.
    """
    rows, hooks = {}, []
    for name, module in model.named_modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if own == 0 and (any(True for _ in module.children()) or isinstance(module, nn.Identity)):
            continue
        rows[name] = {"layer": name or "(model)", "type": type(module).__name__, "output_shape": "", "params": own}
        hooks.append(module.register_forward_hook(_shape_recorder(rows[name])))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example_input(spec).to(next(model.parameters()).device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return list(rows.values())


__all__ = ["ARCHS", "ARCH_DESCRIPTIONS", "Family", "archs_for", "build", "count_params", "default_model_dict",
           "default_train_overrides", "example_input", "model_config_class", "summary",
           "CNNConfig", "LinearConfig", "MLPConfig", "RNNConfig", "TransformerConfig"]
