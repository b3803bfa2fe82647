"""Model registry: each architecture's settings, the inputs it fits, and `build`.

    cfg = make_config("mnist1d", "gru").model   # modelkit.config: the family's defaults for the task
    model = build(cfg, spec)                    # a torch.nn.Module for that TaskSpec

Adding an architecture is one `ARCHS` entry (plus arch.<name>.title/desc and its
settings' help in the translation files); its per-task sizes, if any, go into the
default tables beside `make_config`.

Outputs follow the task kind: classification (B, classes) logits, regression
(B, horizon) values, lm (B, T, vocab) logits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn

from modelkit.data.tasks import task_info
from modelkit.fields import ConfigError
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
    baseline: bool = False            # a yardstick to beat, not where a form starts


ARCHS: dict[str, Family] = {
    "linear": Family(LinearConfig, build_linear, ("vector", "image", "sequence", "tokens"), baseline=True),
    "mlp": Family(MLPConfig, MLP, ("vector", "image", "sequence")),
    "cnn": Family(CNNConfig, CNN, ("image", "sequence")),
    "rnn": Family(RNNConfig, RNN, ("sequence", "image", "tokens")),
    "lstm": Family(RNNConfig, RNN, ("sequence", "image", "tokens")),
    "gru": Family(RNNConfig, RNN, ("sequence", "image", "tokens")),
    "transformer": Family(TransformerConfig, Transformer, ("sequence", "image", "tokens")),
}

def family_name(arch: str) -> str:
    """The family whose settings (and translations) an architecture shares: lstm and gru are rnns."""
    return "rnn" if arch in ("lstm", "gru") else arch


def model_config_class(arch: str) -> type:
    if arch not in ARCHS:
        raise ConfigError("model.arch", "unknown_arch", choices=", ".join(ARCHS), value=repr(arch)[:40])
    return ARCHS[arch].config


def archs_for(task_name: str) -> list[str]:
    """The architectures that make sense on this task, in registry order."""
    kind = task_info(task_name).input_kind
    return [a for a, fam in ARCHS.items() if kind in fam.inputs]


def first_choice(task_name: str) -> str:
    """The architecture a form starts on for a task: the first that fits and is not a baseline."""
    fitting = archs_for(task_name)
    return next((a for a in fitting if not ARCHS[a].baseline), fitting[0])


def check_fits(arch: str, task_name: str, input_kind: str):
    """Refuse an architecture that makes no sense on the task's kind of input, naming those that fit."""
    model_config_class(arch)
    if input_kind not in ARCHS[arch].inputs:
        fitting = [a for a, fam in ARCHS.items() if input_kind in fam.inputs]
        raise ConfigError("model.arch", "arch_fit", arch=arch, task=task_name, fitting=", ".join(fitting))


def build(model_cfg, spec) -> nn.Module:
    """A freshly initialised model for `spec`; refuses an architecture that does not fit the task."""
    check_fits(model_cfg.arch, spec.name, spec.input_kind)
    return ARCHS[model_cfg.arch].make(model_cfg, spec)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_on_meta(model_cfg, spec) -> nn.Module:
    """The model with shapes but no memory (PyTorch's meta device): counts, checks and summaries
    of any size cost the server nothing, and every refusal of `build` still comes."""
    with torch.device("meta"):
        return build(model_cfg, spec)


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


__all__ = ["ARCHS", "Family", "archs_for", "build", "build_on_meta", "check_fits", "count_params", "example_input",
           "family_name", "model_config_class", "summary",
           "CNNConfig", "LinearConfig", "MLPConfig", "RNNConfig", "TransformerConfig"]
