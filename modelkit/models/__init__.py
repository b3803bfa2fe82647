"""Model registry: each architecture's family entry carries every fact that differs by family.

    cfg = make_config("mnist1d", "gru").model   # modelkit.config: the family's defaults for the task
    model = build(cfg, spec)                    # a torch.nn.Module for that TaskSpec

Adding an architecture is one `ARCHS` entry (plus arch.<name>.title/desc and its
settings' help in the translation files): its settings class, the inputs it fits,
its per-task sizes and training settings, its scale-ladder setting, the writer of
its source for the exported script and its Look-inside part. The CLI, the forms,
Compare, the scale ladder, the code view and Look inside read them from here.

Outputs follow the task kind: classification (B, classes) logits, regression
(B, horizon) values, lm (B, T, vocab) logits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn as nn

from modelkit.data.tasks import task_info
from modelkit.fields import ConfigError
from modelkit.models import source
from modelkit.models.cnn import CNN, CNNConfig
from modelkit.models.linear import LinearConfig, build_linear
from modelkit.models.mlp import MLP, MLPConfig
from modelkit.models.rnn import RNN, RNNConfig
from modelkit.models.transformer import Transformer, TransformerConfig


@dataclass(frozen=True)
class Family:
    """One family of architectures. The default tables are looked up as "*" (everywhere), then the
    task's input kind, then the task's name; later entries win."""
    name: str                         # its settings' translations (help.model.<name>.*): lstm and gru are rnns
    config: type                      # the dataclass of its settings
    make: Callable[..., nn.Module]    # (config, spec) -> module
    inputs: tuple                     # input kinds it makes sense on
    source: Callable[..., str]        # (config, spec, built module) -> its nn.Module source, for train.py
    sizes: dict = field(default_factory=dict)      # model settings per task
    training: dict = field(default_factory=dict)   # training settings that suit it better than the task's own
    scale: str = ""                   # the setting a scale ladder grows ("" = no ladder)
    inside: str = ""                  # its own Look-inside part ("" = the common parts only)
    baseline: bool = False            # a yardstick to beat, not where a form starts


RNN_FAMILY = Family(
    "rnn", RNNConfig, RNN, ("sequence", "image", "tokens"), source.rnn_source,
    # mnist1d: two values per step halves the steps; a wide memory is what gets past 0.95
    sizes={"image": {"hidden_size": 64}, "mnist1d": {"hidden_size": 128, "patch": 2},
           "sine": {"hidden_size": 32}, "tokens": {"hidden_size": 128, "embed_dim": 32}},
    training={"*": {"grad_clip": 1.0},  # recurrent gradients can spike; clipping keeps a high lr safe
              "mnist1d": {"lr": 0.01, "schedule": "cosine"}, "sine": {"epochs": 60, "lr": 0.01},
              "tokens": {"lr": 0.01}},
    scale="hidden_size", inside="rnn")

ARCHS: dict[str, Family] = {
    "linear": Family(
        "linear", LinearConfig, build_linear, ("vector", "image", "sequence", "tokens"), source.linear_source,
        baseline=True, training={"mnist1d": {"lr": 0.01, "schedule": "cosine"}, "sine": {"epochs": 60}}),
    "mlp": Family(
        "mlp", MLPConfig, MLP, ("vector", "image", "sequence"), source.mlp_source,
        sizes={"vector": {"hidden": [32, 32]}, "spiral": {"hidden": [64, 64, 64]},
               "digits": {"hidden": [128, 64]}, "mnist1d": {"hidden": [256, 256], "dropout": 0.3},
               "sine": {"hidden": [64, 64]}},
        training={"mnist1d": {"schedule": "cosine"}, "sine": {"epochs": 60}},
        scale="hidden"),
    "cnn": Family(
        "cnn", CNNConfig, CNN, ("image", "sequence"), source.cnn_source,
        sizes={"digits": {"channels": [16, 32], "kernel_size": 3, "head": 64},
               "mnist1d": {"channels": [32, 32, 32], "kernel_size": 5, "batch_norm": True},
               "sine": {"channels": [16, 32], "kernel_size": 5}},
        training={"mnist1d": {"epochs": 30, "schedule": "cosine"}, "sine": {"epochs": 60}},
        scale="channels", inside="cnn"),
    "rnn": RNN_FAMILY,
    "lstm": RNN_FAMILY,
    "gru": RNN_FAMILY,
    "transformer": Family(
        "transformer", TransformerConfig, Transformer, ("sequence", "image", "tokens"), source.transformer_source,
        # sequences: overlapping patches (5 values, every 3) instead of one token per value
        sizes={"digits": {"d_model": 64, "patch": 4, "stride": 2, "heads": 4, "layers": 2, "ff_width": 128},
               "mnist1d": {"d_model": 64, "patch": 5, "stride": 3, "heads": 4, "layers": 2, "ff_width": 128},
               "sine": {"d_model": 32, "patch": 4, "heads": 4, "layers": 2, "ff_width": 64, "pooling": "cls"},
               "tokens": {"d_model": 64, "heads": 4, "layers": 2, "ff_width": 256}},
        training={"*": {"schedule": "warmup_cosine"},  # attention is unstable at full lr on step one
                  "mnist1d": {"lr": 0.003, "batch_size": 128, "epochs": 30}, "sine": {"epochs": 60},
                  "tokens": {"lr": 0.01, "grad_clip": 1.0}},
        scale="d_model", inside="transformer"),
}


def family(arch: str) -> Family:
    """The registry's entry for `arch`; refuses an unknown architecture, naming those there are."""
    if arch not in ARCHS:
        raise ConfigError("model.arch", "unknown_arch", choices=", ".join(ARCHS), value=repr(arch)[:40])
    return ARCHS[arch]


def family_name(arch: str) -> str:
    """The family whose settings (and translations) an architecture shares: lstm and gru are rnns."""
    return family(arch).name


def scalable() -> list[str]:
    """The architectures a scale ladder can grow, in registry order."""
    return [a for a, fam in ARCHS.items() if fam.scale]


def model_config_class(arch: str) -> type:
    return family(arch).config


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
           "family", "family_name", "model_config_class", "scalable", "summary",
           "CNNConfig", "LinearConfig", "MLPConfig", "RNNConfig", "TransformerConfig"]
