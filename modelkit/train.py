"""fit(): the training loop. It knows nothing about any one model or task.

It batches from in-memory tensors, follows the budget (epochs and/or seconds),
checks a stop flag and the loss every step, evaluates on the validation set,
and reports through a handful of callback hooks:

    on_fit_begin(**info)  on_step(**info)  on_eval(**info)  on_fit_end(result=...)
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch

from modelkit import evaluate
from modelkit.config import ConfigError, RunConfig, TrainConfig
from modelkit.tasks import TaskData

EXPLODE_FACTOR = 1e3   # a loss this many times its first value has exploded, even if still finite


class Callback:
    """Override the hooks you need; each gets keyword arguments and must stay cheap."""

    def on_fit_begin(self, **info): ...
    def on_step(self, **info): ...
    def on_eval(self, **info): ...
    def on_fit_end(self, **info): ...


@dataclass
class FitResult:
    status: str                      # completed | stopped | diverged
    message: str                     # plain words for the person who started the run
    metrics: dict = field(default_factory=dict)   # test_* (and best_val_*) figures
    details: dict = field(default_factory=dict)   # JSON-able: confusion matrix, examples, text...
    seconds: float = 0.0
    steps: int = 0
    epochs: float = 0.0
    params: int = 0
    device: str = "cpu"
    samples_per_s: float = 0.0


def resolve_device(name: str) -> torch.device:
    """auto picks CUDA, then Apple MPS, then the CPU; an unavailable choice is refused."""
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device", "no_cuda")
    if name == "mps" and not has_mps:
        raise ConfigError("train.device", "no_mps")
    return torch.device(name)


def make_optimizer(cfg: TrainConfig, params):
    if cfg.optimizer in ("gd", "sgd"):
        momentum = cfg.momentum if cfg.optimizer == "sgd" else 0.0
        return torch.optim.SGD(params, lr=cfg.lr, momentum=momentum, weight_decay=cfg.weight_decay,
                               nesterov=cfg.nesterov and momentum > 0)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}[cfg.optimizer]
    return cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def lr_factor(cfg: TrainConfig, progress: float, epoch: float) -> float:
    """The schedule's multiplier of the base learning rate; progress runs 0 -> 1 over the budget."""
    if cfg.schedule == "step":
        return cfg.step_gamma ** int(epoch // cfg.step_every)
    if cfg.schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    if cfg.schedule == "warmup_cosine":
        warm = cfg.warmup_fraction
        if progress < warm:
            return max(progress / warm, 0.01)
        return 0.5 * (1 + math.cos(math.pi * min((progress - warm) / max(1 - warm, 1e-9), 1.0)))
    return 1.0


def _diverged(loss: float, first: float, step: int, lr: float) -> str | None:
    if not math.isfinite(loss):
        what = "became NaN (not a number)" if math.isnan(loss) else "became infinite"
    elif loss > EXPLODE_FACTOR * max(first, 1e-3):
        what = f"exploded to {loss:.3g} (it started at {first:.3g})"
    else:
        return None
    return (f"The loss {what} at step {step}: the updates grew out of control. "
            f"The learning rate ({lr:g}) is probably too high: try {lr / 10:g} (10x lower), "
            f"or turn on gradient clipping.")


def fit(model, data: TaskData, cfg: TrainConfig, callbacks=(), should_stop=None) -> FitResult:
    """Train `model` on `data` following `cfg`; returns how it ended and the test metrics."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    spec = data.spec
    loss_of = evaluate.loss_fn(cfg.loss, spec)
    model.to(device).train()
    x, y = data.x_train.to(device), data.y_train.to(device)
    n = len(x)
    batch = n if cfg.optimizer == "gd" else min(cfg.batch_size, n)
    steps_per_epoch = math.ceil(n / batch)
    max_steps = steps_per_epoch * cfg.epochs if cfg.epochs else None
    eval_every = cfg.eval_every or steps_per_epoch
    optimizer = make_optimizer(cfg, model.parameters())
    torch.manual_seed(cfg.seed)
    order_gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    params = sum(p.numel() for p in model.parameters())
    emit = _Emitter(callbacks)
    emit("on_fit_begin", params=params, device=str(device), steps_per_epoch=steps_per_epoch,
         max_steps=max_steps, spec=spec, config=cfg)

    def validate(step: int) -> dict:
        """Validation metrics (and the 2-D boundary) out through on_eval; its time is not training time."""
        nonlocal eval_seconds
        t0 = time.perf_counter()
        val, _, _ = evaluate.evaluate(model, data.x_val, data.y_val, spec, loss_of, device, "val")
        boundary = evaluate.decision_boundary(model, data, device)
        eval_seconds += time.perf_counter() - t0
        emit("on_eval", step=step, epoch=step / steps_per_epoch, seconds=time.perf_counter() - start,
             metrics=val, boundary=boundary)
        return val

    start = time.perf_counter()
    eval_seconds, step, seen, first_loss = 0.0, 0, 0, None
    best_val, best_state, stale = math.inf, None, 0
    status, message = "completed", ""
    done = False
    while not done:
        order = torch.randperm(n, generator=order_gen).to(device)
        for i in range(0, n, batch):
            elapsed = time.perf_counter() - start
            progress = max(step / max_steps if max_steps else 0.0,
                           elapsed / cfg.time_budget if cfg.time_budget else 0.0)
            epoch = step / steps_per_epoch
            lr = cfg.lr * lr_factor(cfg, progress, epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            idx = order[i:i + batch]
            loss = loss_of(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            step += 1
            seen += len(idx)
            value = loss.item()
            first_loss = value if first_loss is None else first_loss
            seconds = time.perf_counter() - start
            emit("on_step", step=step, epoch=step / steps_per_epoch, seconds=seconds, loss=value, lr=lr,
                 samples_per_s=seen / max(seconds - eval_seconds, 1e-9))
            reason = _diverged(value, first_loss, step, cfg.lr)
            if reason:
                status, message, done = "diverged", reason, True
                break
            if step % eval_every == 0:
                val = validate(step)
                if val["val_loss"] < best_val:
                    best_val, stale = val["val_loss"], 0
                    if cfg.early_stopping:
                        best_state = copy.deepcopy(model.state_dict())
                elif cfg.early_stopping:
                    stale += 1
                    if stale >= cfg.early_stopping:
                        message = (f"Stopped early at step {step}: the validation loss had not improved for "
                                   f"{stale} checks; the best weights are kept.")
                        done = True
                        break
            if should_stop is not None and should_stop():
                status, message, done = "stopped", f"Stopped on request at step {step}.", True
                break
            if (max_steps and step >= max_steps) or (cfg.time_budget and seconds >= cfg.time_budget):
                done = True
                break

    if status != "diverged" and step % eval_every:
        best_val = min(best_val, validate(step)["val_loss"])   # the curves end where training ended
    seconds = time.perf_counter() - start
    result = FitResult(status, message, seconds=seconds, steps=step, epochs=step / steps_per_epoch,
                       params=params, device=str(device),
                       samples_per_s=seen / max(seconds - eval_seconds, 1e-9))
    if status != "diverged":
        if best_state is not None:
            model.load_state_dict(best_state)
        test, details, out = evaluate.evaluate(model, data.x_test, data.y_test, spec, loss_of, device, "test")
        extra, more = evaluate.final_details(model, data, out, device, cfg.seed)
        result.metrics = {**test, **extra}
        if math.isfinite(best_val):
            result.metrics["best_val_loss"] = best_val
        result.details = {**details, **more}
        if not message:
            message = f"Finished {step} steps ({result.epochs:.1f} epochs) in {seconds:.1f} s."
        result.message = message
    emit("on_fit_end", result=result)
    return result


def run(config: RunConfig, callbacks=(), should_stop=None):
    """Load the task, build the model with the run's seed, and fit it: (FitResult, model)."""
    from modelkit import models, tasks

    data = tasks.load(config.task)
    torch.manual_seed(config.train.seed)
    model = models.build(config.model, data.spec)
    return fit(model, data, config.train, callbacks, should_stop), model


class _Emitter:
    """Calls one hook on every callback that defines it."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def __call__(self, hook: str, **info):
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:
                method(**info)
