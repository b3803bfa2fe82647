"""What is inside a trained model: activations, filters, hidden states, attention, gradients.

Everything is computed from a run's saved weights (safetensors) and its task, and
comes back as numpy arrays or plain numbers; pages only draw what this returns.

    trained = load(store, run_id)
    look = forward(trained, example=3)      # probabilities and each layer's activations
    cnn(trained, 3)["feature_maps"]         # per family: cnn, rnn, transformer
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from modelkit import models
from modelkit.config import RunConfig
from modelkit.data.tasks import TaskData
from modelkit.fields import ConfigError
from modelkit.training import evaluation
from modelkit.training.callbacks import GRAD_PREFIX

VANISHING, EXPLODING = 1e-5, 1e3   # gradient norms below / above these are a problem
SKIPPED = (nn.Identity, nn.Flatten, nn.Dropout)


@dataclass
class Trained:
    """A stored run's model with its weights, its config and its task's data."""
    config: RunConfig
    data: TaskData
    model: nn.Module

    @property
    def arch(self) -> str:
        return self.config.arch

    @property
    def part(self) -> str:
        """Its family's own Look-inside part ("" = none): cnn, rnn or transformer."""
        return models.family(self.arch).inside

    def example(self, index: int) -> torch.Tensor:
        return self.data.x_test[index:index + 1]  # (1, ...)


def load(store, run_id: str) -> Trained:
    """The run's trained model in eval mode; NoModelError when it has no saved weights."""
    return Trained(*store.load_model(run_id))


@contextmanager
def one_thread():
    """Passes over one example are fastest on one thread (several spin and wait on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _first_tensor(out) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


def shown_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's layers as a reader counts them: top-level parts, with lists opened up."""
    out = []
    for name, child in model.named_children():
        if isinstance(child, (nn.ModuleList, nn.Sequential)):
            out += [(f"{name}.{i}", c) for i, c in child.named_children() if not isinstance(c, SKIPPED)]
        elif not isinstance(child, SKIPPED):
            out.append((name, child))
    return out


@torch.no_grad()
def run_with_hooks(model: nn.Module, x: torch.Tensor, modules: list[tuple[str, nn.Module]]):
    """(output, {name: that module's output}) for one forward pass of x."""
    seen, hooks = {}, []
    for name, module in modules:
        hooks.append(module.register_forward_hook(
            lambda m, i, o, name=name: seen.__setitem__(name, _first_tensor(o).detach().float().cpu())))
    try:
        out = model(x)
    finally:
        for h in hooks:
            h.remove()
    return out.float().cpu(), seen


def summarize(values: np.ndarray) -> dict:
    return {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
            "max": float(values.max()), "active": float((values > 0).mean())}


def forward(trained: Trained, example: int = 0) -> dict:
    """One test example through the model: its output, probabilities, loss and each layer's activations."""
    spec, x = trained.data.spec, trained.example(example)
    out, seen = run_with_hooks(trained.model, x, shown_layers(trained.model))
    layers = [{"name": name, "shape": list(a.shape[1:]), "values": a[0].numpy(), "summary": summarize(a[0].numpy())}
              for name, a in seen.items()]
    target = trained.data.y_test[example]
    look = {"example": example, "output": out[0].numpy(), "layers": layers, "target": target.numpy()}
    if spec.kind == "classification":
        probs = out[0].softmax(-1)
        look["probabilities"] = probs.numpy()
        look["loss"] = {"cross_entropy": float(-torch.log(probs[target].clamp_min(1e-12))),
                        "mse": float(F.mse_loss(probs, F.one_hot(target, spec.n_outputs).float()))}
    elif spec.kind == "lm":
        probs = out[0].softmax(-1)  # (T, vocab)
        look["probabilities"] = probs[-1].numpy()  # the next character after the whole example
        look["loss"] = {"cross_entropy": float(F.cross_entropy(out[0], target))}
    else:
        look["loss"] = {"mse": float(F.mse_loss(out[0], target))}
    return look


def ce_vs_mse(n_classes: int, p_right: np.ndarray | None = None) -> dict:
    """Both losses as the right class's probability p moves (the rest shared evenly by the other classes)."""
    p = np.linspace(0.01, 1.0, 100) if p_right is None else np.asarray(p_right, dtype=float)
    rest = (1 - p) / max(n_classes - 1, 1)
    mse = ((1 - p) ** 2 + (n_classes - 1) * rest ** 2) / n_classes  # as the training loss computes it
    return {"p": p, "cross_entropy": -np.log(np.clip(p, 1e-12, None)), "mse": mse}


@torch.no_grad()
def neuron_regions(trained: Trained, resolution: int = 40) -> dict | None:
    """2-D tasks with hidden layers: each first-layer neuron's output over the plane (n, res, res)."""
    spec, model = trained.data.spec, trained.model
    first = getattr(model, "hidden", None)
    if spec.input_shape != (2,) or not isinstance(first, nn.ModuleList) or not len(first):
        return None
    x = torch.cat([trained.data.x_train, trained.data.x_test])
    lo, hi = x.min(0).values - 0.5, x.max(0).values + 0.5
    xs, ys = torch.linspace(lo[0], hi[0], resolution), torch.linspace(lo[1], hi[1], resolution)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)
    _, seen = run_with_hooks(model, grid, [("first", first[0])])
    maps = seen["first"].T.reshape(-1, resolution, resolution)  # (neurons, rows = y, columns = x)
    return {"xs": xs.numpy(), "ys": ys.numpy(), "maps": maps.numpy()}


@torch.no_grad()
def test_probabilities(trained: Trained) -> np.ndarray:
    """Class probabilities for every test example (N, classes)."""
    return evaluation.predict(trained.model, trained.data.x_test, "cpu").softmax(-1).numpy()


def wrong_examples(trained: Trained, probabilities: np.ndarray) -> list[int]:
    return np.flatnonzero(probabilities.argmax(-1) != trained.data.y_test.numpy()).tolist()


def cnn(trained: Trained, example: int = 0) -> dict:
    """Filters (the conv weights), and for the example each block's maps before and after pooling."""
    blocks = list(trained.model.blocks)
    hooked = [(f"act{i}", b.act) for i, b in enumerate(blocks)] + [(f"pool{i}", b.pool) for i, b in enumerate(blocks)]
    _, seen = run_with_hooks(trained.model, trained.example(example), hooked)
    return {"dims": trained.model.dims,
            "filters": [b.conv.weight.detach().cpu().numpy() for b in blocks],  # (out, in, k[, k])
            "feature_maps": [seen[f"act{i}"][0].numpy() for i in range(len(blocks))],  # (C, L) or (C, H, W)
            "pooled": [seen[f"pool{i}"][0].numpy() for i in range(len(blocks))]}


def token_text(spec, ids) -> list[str]:
    return [spec.vocab[i] for i in ids]


def rnn(trained: Trained, example: int = 0) -> dict:
    """The hidden state at every step (T, units) under the steps the network read."""
    model, spec, x = trained.model, trained.data.spec, trained.example(example)
    _, seen = run_with_hooks(model, x, [("rnn", model.rnn)])
    look = {"hidden": seen["rnn"][0].numpy()}
    if spec.input_kind == "tokens":
        look["tokens"] = token_text(spec, x[0].tolist())
    else:
        with torch.no_grad():
            look["steps"] = model.steps(x)[0].numpy()  # (T, values per step)
    return look


@torch.no_grad()
def next_char_guesses(trained: Trained, example: int = 0, top: int = 3) -> dict | None:
    """Text: after each character of the example, the model's `top` guesses for the next one."""
    spec = trained.data.spec
    if spec.kind != "lm":
        return None
    x = trained.example(example)
    probs = trained.model(x)[0].float().softmax(-1)  # (T, vocab)
    p, ids = probs.topk(min(top, spec.n_outputs), dim=-1)
    return {"read": token_text(spec, x[0].tolist()), "guesses": [token_text(spec, row) for row in ids.tolist()],
            "probabilities": p.numpy()}


def token_labels(trained: Trained) -> list[str]:
    """What each position of the Transformer stands for: a character, or a patch's place."""
    model, spec, cfg = trained.model, trained.data.spec, trained.config.model
    if spec.input_kind == "tokens":
        return [str(i) for i in range(spec.input_shape[0])]
    stride = cfg.stride or cfg.patch
    with torch.no_grad():
        shape = spec.input_shape if model.embed.image else (spec.channels, spec.input_shape[0])  # (C, L)
        grid = model.embed.conv(torch.zeros(1, *shape)).shape[2:]
    if len(grid) == 2:
        labels = [f"({r * stride},{c * stride})" for r in range(grid[0]) for c in range(grid[1])]
    else:
        labels = [f"@{i * stride}" for i in range(grid[0])]
    return (["cls"] if model.cls is not None else []) + labels


def transformer(trained: Trained, example: int = 0) -> dict:
    """Attention (layers, heads, T, T) for the example, the positional encoding and position similarity."""
    model, spec, x = trained.model, trained.data.spec, trained.example(example)
    attention = np.stack([a[0].float().cpu().numpy() for a in model.attention_maps(x)])
    labels = token_text(spec, x[0].tolist()) if spec.input_kind == "tokens" else token_labels(trained)
    pos = model.pos[0].detach().float().cpu()  # (positions, d_model)
    unit = F.normalize(pos, dim=-1)
    return {"attention": attention, "labels": labels, "positional": trained.config.model.positional,
            "positional_encoding": pos.numpy(), "position_similarity": (unit @ unit.T).numpy()}


def class_cells(matrix, c: int) -> dict:
    """Which confusion-matrix cells make class c's precision (its column) and recall (its row)."""
    m = np.asarray(matrix, dtype=float)
    right, predicted, actual = m[c, c], m[:, c].sum(), m[c].sum()
    return {"right": int(right), "predicted": int(predicted), "actual": int(actual),
            "precision": right / predicted if predicted else 0.0, "recall": right / actual if actual else 0.0}


def threshold_scores(p_positive: np.ndarray, y: np.ndarray, threshold: float) -> dict:
    """Two classes: precision, recall and F1 of 'class 1 when its probability >= threshold'."""
    pred, y = np.asarray(p_positive) >= threshold, np.asarray(y) == 1
    tp, fp, fn = int((pred & y).sum()), int((pred & ~y).sum()), int((~pred & y).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def threshold_curve(p_positive: np.ndarray, y: np.ndarray, steps: int = 51) -> list[dict]:
    return [threshold_scores(p_positive, y, float(th)) for th in np.linspace(0, 1, steps)]


def grad_norms(points) -> dict[str, list[list[float]]]:
    """layer -> [[step, norm], ...] from a run's point frame (store.points)."""
    rows = points[points["name"].str.startswith(GRAD_PREFIX)]
    return {name[len(GRAD_PREFIX):]: group[["step", "value"]].values.tolist()
            for name, group in rows.groupby("name", sort=False)}


def gradient_verdict(norms: dict[str, list]) -> str:
    """healthy | vanishing | exploding | none, judged on each layer's latest readings."""
    latest = [series[-1][1] for series in norms.values() if series]
    if not latest:
        return "none"
    if any(v is None or not math.isfinite(v) or v > EXPLODING for v in latest):
        return "exploding"
    if min(latest) < VANISHING or min(latest) < 1e-4 * max(latest):
        return "vanishing"
    return "healthy"


def _rounded(a, digits: int = 4):
    return np.round(np.asarray(a, dtype=float), digits).tolist()


def inspect_run(store, run_id: str, example: int = 0) -> dict:
    """One JSON-able object with what applies to the run's architecture (python -m modelkit inspect)."""
    with one_thread():
        return _inspect(store, run_id, example)


def _cnn_json(trained: Trained, example: int) -> dict:
    inner = cnn(trained, example)
    return {"filters": [_rounded(f) for f in inner["filters"]],
            "feature_maps": [_rounded(m) for m in inner["feature_maps"]],
            "pooled_shapes": [list(m.shape) for m in inner["pooled"]]}


def _rnn_json(trained: Trained, example: int) -> dict:
    return {"hidden": _rounded(rnn(trained, example)["hidden"])}


def _transformer_json(trained: Trained, example: int) -> dict:
    inner = transformer(trained, example)
    return {"attention": _rounded(inner["attention"]), "positional": inner["positional"],
            "positional_encoding": _rounded(inner["positional_encoding"]), "labels": inner["labels"]}


# A family's Look-inside part (its models.ARCHS entry's `inside`) -> what the CLI's JSON adds for it.
PART_JSON = {"cnn": _cnn_json, "rnn": _rnn_json, "transformer": _transformer_json}


def _inspect(store, run_id: str, example: int) -> dict:
    trained = load(store, run_id)
    n = len(trained.data.x_test)
    if not 0 <= example < n:
        raise ConfigError("--example", "example_range", n=n, last=n - 1, value=example)
    look = forward(trained, example)
    out = {"run": run_id, "arch": trained.arch, "task": trained.config.task.name, "example": example,
           "target": _rounded(look["target"]), "loss": look["loss"],
           "probabilities": _rounded(look["probabilities"]) if "probabilities" in look else None,
           "layers": [{"name": layer["name"], "shape": layer["shape"], "summary": layer["summary"]}
                      for layer in look["layers"]]}
    if trained.part:
        out.update(PART_JSON[trained.part](trained, example))
    out["grad_norms"] = grad_norms(store.points(run_id, names=None))
    return out
