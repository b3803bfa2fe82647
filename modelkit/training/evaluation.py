"""Evaluation: losses, metrics and the details pages show (boundary, samples, text).

Nothing here knows about any one model: it sees a module, a TaskSpec and tensors.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from modelkit.data import forecast
from modelkit.data.tasks import TaskData, TaskSpec, fitting_loss
from modelkit.training import metrics

EVAL_BATCH = 2048


def loss_fn(name: str, spec: TaskSpec):
    """The training loss for `name` (`auto` resolved) as a function (output, target) -> scalar."""
    name = fitting_loss(name, spec.kind)
    if name == "cross_entropy":
        return lambda out, y: F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    if spec.kind == "classification":
        # MSE between predicted probabilities and one-hot targets: the classic contrast to cross-entropy.
        return lambda out, y: F.mse_loss(out.softmax(-1), F.one_hot(y, out.shape[-1]).to(out.dtype))
    return F.l1_loss if name == "mae" else F.mse_loss


@torch.no_grad()
def predict(model, x: torch.Tensor, device) -> torch.Tensor:
    """Model outputs for all of x, in batches, gathered on the CPU."""
    model.eval()
    outs = [model(x[i:i + EVAL_BATCH].to(device)).float().cpu() for i in range(0, len(x), EVAL_BATCH)]
    model.train()
    return torch.cat(outs)


def evaluate(model, x, y, spec: TaskSpec, loss, device, prefix: str) -> tuple[dict, dict, torch.Tensor]:
    """`{prefix}_loss` and the task's metrics on (x, y); also details and the raw outputs."""
    out = predict(model, x, device)
    result = {f"{prefix}_loss": float(loss(out, y))}
    details = {}
    if spec.kind == "classification":
        m, details = metrics.classification(y, out, spec.class_names)
    elif spec.kind == "regression":
        m = metrics.regression(y, out)
    else:
        ce = float(F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1)))
        m = {"perplexity": metrics.perplexity(ce)}
    result.update({f"{prefix}_{k}": v for k, v in m.items()})
    return result, details, out


def decision_boundary(model, data: TaskData, device, resolution: int = 50) -> dict | None:
    """For 2-D inputs: the model's class-1 probability (binary) or class (more) on a grid."""
    if data.spec.input_shape != (2,) or data.spec.kind != "classification":
        return None
    x = torch.cat([data.x_train, data.x_test])
    lo, hi = x.min(0).values - 0.5, x.max(0).values + 0.5
    xs, ys = torch.linspace(lo[0], hi[0], resolution), torch.linspace(lo[1], hi[1], resolution)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)  # row = y, column = x
    probs = predict(model, grid, device).softmax(-1)
    if data.spec.n_outputs == 2:
        z = probs[:, 1]
    else:
        z = probs.argmax(-1).float()
    return {"xs": [round(float(v), 4) for v in xs], "ys": [round(float(v), 4) for v in ys],
            "z": [[round(float(v), 3) for v in row] for row in z.reshape(resolution, resolution)],
            "n_classes": data.spec.n_outputs}


@torch.no_grad()
def sample_text(model, spec: TaskSpec, prompt_ids: torch.Tensor, device, length: int = 240,
                temperature: float = 0.8, seed: int = 0) -> str:
    """Continue `prompt_ids` character by character, sampling from the model."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    ids = prompt_ids.tolist()
    context = spec.input_shape[0]
    for _ in range(length):
        x = torch.tensor([ids[-context:]], device=device)
        logits = model(x)[0, -1].float().cpu() / temperature
        ids.append(int(torch.multinomial(logits.softmax(-1), 1, generator=g)))
    model.train()
    return "".join(spec.vocab[i] for i in ids)


def report_on_test_set(model, data: TaskData, loss: str, device, seed: int) -> tuple[dict, dict]:
    """A trained model on the test set: its test_* metrics, and the details its results show."""
    test, details, out = evaluate(model, data.x_test, data.y_test, data.spec, loss_fn(loss, data.spec), device, "test")
    extra, more = final_details(model, data, out, device, seed)
    return {**test, **extra}, {**details, **more}


def report_on_rows(model, spec: TaskSpec, x, y, loss: str, device) -> dict:
    """A trained model on rows besides its splits (a hidden test's): the same test_* metrics as on its test set."""
    return evaluate(model, x, y, spec, loss_fn(loss, spec), device, "test")[0]


def final_details(model, data: TaskData, out: torch.Tensor, device, seed: int) -> tuple[dict, dict]:
    """Extra test metrics and the details each kind of task shows in its results."""
    spec, extra, details = data.spec, {}, {}
    if spec.kind == "classification":
        pred = out.argmax(-1)
        right = (pred == data.y_test).nonzero().flatten()[:24].tolist()
        wrong = (pred != data.y_test).nonzero().flatten()[:24].tolist()
        details["examples"] = [{"index": i, "true": int(data.y_test[i]), "pred": int(pred[i]),
                                "confidence": round(float(out[i].softmax(-1).max()), 3)} for i in wrong + right]
        boundary = decision_boundary(model, data, device)
        if boundary:
            details["boundary"] = boundary
    elif spec.kind == "regression":
        details["series"] = [{"input": data.x_test[i].tolist(), "true": data.y_test[i].tolist(),
                              "pred": [round(float(v), 4) for v in out[i]]} for i in range(min(6, len(out)))]
        if "series" in data.extra:   # an uploaded series: the naive forecasts beside, the test part drawn
            baselines, details["forecast"] = forecast.report(data.extra["series"], out.numpy())
            extra.update(baselines)
    else:
        prompt = data.x_test[0][:32]
        details["prompt"] = "".join(spec.vocab[i] for i in prompt.tolist())
        details["sample_text"] = sample_text(model, spec, prompt, device, seed=seed)
        if "char_freq" in data.extra:
            extra["test_baseline_perplexity"] = metrics.frequency_perplexity(data.y_test, data.extra["char_freq"])
    return extra, details
