"""fit(): the training loop. It knows nothing about any one model or task.

It batches from in-memory tensors, follows the budget (epochs and/or seconds),
checks a stop flag and the loss every step, evaluates on the validation set
(early stopping keeps the best weights), and reports through a handful of
callback hooks, each called with keyword arguments:

    on_fit_begin  model, params, device, steps_per_epoch, max_steps, spec, config
    on_step       step, epoch, seconds, loss, lr, samples_per_s      (every step: keep it cheap)
    on_eval       step, epoch, seconds, metrics (val_*), model, data, device
                  (after each validation check; the time a hook takes here is not training time)
    on_lr_change  step, epoch, seconds, lr (the new base rate, applied from the step after `step`)
    on_fit_end    result (the FitResult; `run` adds the test metrics to it afterwards)

`run` loads the task, builds the model, fits it and then tests it.
"""
from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import dataclass, field

import torch

from modelkit import models
from modelkit.config import ConfigError, RunConfig, TrainConfig
from modelkit.data import tasks
from modelkit.data.tasks import TaskData
from modelkit.messages import Message, part
from modelkit.training import evaluation

EXPLODE_FACTOR = 1e3   # a loss this many times its first value has exploded, even if still finite
READ_LOSS_EVERY = {"cuda": 10}   # steps between loss read-backs (one host sync each); other devices: every step


class Callback:
    """Override the hooks you need; each gets keyword arguments and must stay cheap."""

    def on_fit_begin(self, **info): ...
    def on_step(self, **info): ...
    def on_eval(self, **info): ...
    def on_fit_end(self, **info): ...


@dataclass
class FitResult:
    status: str                      # completed | stopped | diverged
    message: Message                 # plain words for the person who started the run (English, with its keys)
    metrics: dict = field(default_factory=dict)   # best_val_loss from fit; run adds the test_* figures
    details: dict = field(default_factory=dict)   # from run, JSON-able: confusion matrix, examples, text...
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


def check_device(name: str):
    """Refuse a device this machine does not have before a run is stored (auto and cpu are always there)."""
    if name not in ("auto", "cpu"):
        resolve_device(name)


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


def _diverged(loss: float, first: float, step: int, lr: float) -> Message | None:
    if not math.isfinite(loss):
        what = part("message.loss.nan" if math.isnan(loss) else "message.loss.inf")
    elif loss > EXPLODE_FACTOR * max(first, 1e-3):
        what = part("message.loss.exploded", loss=loss, first=first)
    else:
        return None
    return Message.of("diverged", what=what, step=step, lr=lr, lower=lr / 10)


class Control:
    """What a person changes while a run trains, read by the loop as plain attributes (no database).

    `lr` (None: the config's) is the base learning rate the schedule multiplies; `paused` holds the loop
    between two steps. Some other thread (the worker's watcher) sets them with `set_lr`, `pause`, `resume`.
    """

    def __init__(self):
        self.lr: float | None = None
        self.paused = False
        self._resumed = threading.Event()
        self._resumed.set()

    def set_lr(self, lr: float | None):
        self.lr = lr

    def pause(self):
        self._resumed.clear()
        self.paused = True

    def resume(self):
        self.paused = False
        self._resumed.set()

    def hold(self, should_stop=None, poll: float = 0.1) -> float:
        """Wait while paused (or until a stop is asked for); the seconds waited."""
        t0 = time.perf_counter()
        while self.paused and not (should_stop is not None and should_stop()):
            self._resumed.wait(poll)
        return time.perf_counter() - t0


def fit(model, data: TaskData, cfg: TrainConfig, callbacks=(), should_stop=None,
        control: Control | None = None) -> FitResult:
    """Train `model` on `data` following `cfg`; returns how it ended (test metrics: see `run`).

    `control` (optional) changes the learning rate or pauses the loop while it runs; paused time is
    neither training time nor spent budget."""
    loss_of = evaluation.loss_fn(cfg.loss, data.spec)
    device = prepare_device(cfg)
    model.to(device).train()
    x, y = data.x_train.to(device), data.y_train.to(device)
    budget = Budget(cfg, len(x))
    train_step = make_train_step(model, make_optimizer(cfg, model.parameters()), loss_of, cfg.grad_clip, cfg.amp)
    torch.manual_seed(cfg.seed)
    batches = shuffled_batches(len(x), budget.batch, cfg.seed, device)
    params = sum(p.numel() for p in model.parameters())
    emit = _Emitter(callbacks)
    emit("on_fit_begin", model=model, params=params, device=str(device), steps_per_epoch=budget.steps_per_epoch,
         max_steps=budget.max_steps, spec=data.spec, config=cfg)
    validation = Validation(model, data, loss_of, device, cfg.eval_every or budget.steps_per_epoch,
                            budget.steps_per_epoch, cfg.early_stopping, emit)

    status, message, step, seen, start = _train(train_step, batches, x, y, cfg, budget, validation, emit,
                                                should_stop, time.perf_counter(), control or Control())
    if status != "diverged":
        validation.finish(step, start)
    seconds = time.perf_counter() - start
    result = FitResult(status, message, seconds=seconds, steps=step, epochs=step / budget.steps_per_epoch,
                       params=params, device=str(device),
                       samples_per_s=seen / max(seconds - validation.seconds, 1e-9))
    if status != "diverged":
        result.message = message or _ending(cfg, budget, step, result.epochs, seconds)
        if math.isfinite(validation.best_loss):
            result.metrics["best_val_loss"] = validation.best_loss
    emit("on_fit_end", result=result)
    return result


def _ending(cfg, budget: "Budget", step: int, epochs: float, seconds: float) -> Message:
    """A run that spent its budget: finished, or cut by its time limit before the epochs it asked for."""
    if budget.max_steps and step < budget.max_steps:
        return Message.of("time_limit", limit=cfg.time_budget, steps=step, epochs=epochs, asked=cfg.epochs,
                          share=step / budget.max_steps)
    return Message.of("completed", steps=step, epochs=epochs, seconds=seconds)


def _train(train_step, batches, x, y, cfg, budget, validation, emit, should_stop, start, control):
    """Step through `batches` until the budget is spent, a stop is asked for, the loss diverges
    or early stopping ends the run: (status, message, steps, samples seen, start moved past pauses)."""
    per_epoch, eval_every = budget.steps_per_epoch, validation.every
    losses = LossReadback(emit, per_epoch, cfg.lr, start, validation, READ_LOSS_EVERY.get(x.device.type, 1))
    step = seen = 0
    base = cfg.lr
    for idx in batches:
        if control.lr is not None and control.lr != base:   # a change made while it trains
            base = losses.base_lr = control.lr
            emit("on_lr_change", step=step, epoch=step / per_epoch, seconds=time.perf_counter() - start, lr=base)
        lr = base * lr_factor(cfg, budget.progress(step, time.perf_counter() - start), step / per_epoch)
        loss = train_step(x[idx], y[idx], lr)   # a tensor: the device may still be computing it
        step += 1
        seen += len(idx)
        reason = losses.add(step, lr, seen, loss)
        evaluating = step % eval_every == 0
        stopping = should_stop is not None and should_stop()
        spent = budget.spent(step, time.perf_counter() - start)
        if not reason and (evaluating or stopping or spent or control.paused):
            reason = losses.read()   # what is still on the device, before a validation, a pause or the end
        if reason:
            return "diverged", reason, step, seen, start
        if evaluating:
            early = validation.check(step, start)
            if early:
                return "completed", early, step, seen, start
        if control.paused:
            held = control.hold(should_stop)   # the clock stands still while paused
            start += held
            losses.start += held
            stopping = should_stop is not None and should_stop()
        if stopping:
            return "stopped", Message.of("stopped", step=step), step, seen, start
        if spent:
            return "completed", None, step, seen, start


class LossReadback:
    """Step losses read back from the device every `every` steps, one wait for all of them, and reported then
    (on_step) and checked for divergence. On the CPU `every` is 1: each loss at once. On CUDA the check
    may lag by up to `every` steps, and the steps read back together share one time stamp."""

    def __init__(self, emit, per_epoch: int, base_lr: float, start: float, validation, every: int):
        self.emit, self.per_epoch, self.base_lr, self.start, self.validation = emit, per_epoch, base_lr, start, validation
        self.every, self.pending, self.first = every, [], None

    def add(self, step: int, lr: float, seen: int, loss) -> Message | None:
        """Keep one step's loss tensor; read the kept ones when due: the divergence message, if any."""
        self.pending.append((step, lr, seen, loss.detach()))
        return self.read() if len(self.pending) >= self.every else None

    def read(self) -> Message | None:
        """Report every kept step; the divergence message of the first that diverged, else None."""
        pending, self.pending = self.pending, []
        if not pending:
            return None
        values = [pending[0][3].item()] if len(pending) == 1 else torch.stack([p[3] for p in pending]).tolist()
        seconds = time.perf_counter() - self.start
        for (step, lr, seen, _), value in zip(pending, values):
            self.first = value if self.first is None else self.first
            self.emit("on_step", step=step, epoch=step / self.per_epoch, seconds=seconds, loss=value, lr=lr,
                      samples_per_s=seen / max(seconds - self.validation.seconds, 1e-9))
            reason = _diverged(value, self.first, step, self.base_lr)
            if reason:
                return reason
        return None


def run(config: RunConfig, callbacks=(), should_stop=None, control: Control | None = None):
    """Load the task, build the model with the run's seed, fit it and test it: (FitResult, model).

    A run that did not diverge gets its test metrics and details (those of the best weights).
    """
    data = tasks.load(config.task)
    torch.manual_seed(config.train.seed)
    model = models.build(config.model, data.spec)
    result = fit(model, data, config.train, callbacks, should_stop, control)
    if result.status != "diverged":
        metrics, result.details = evaluation.report_on_test_set(model, data, config.train.loss,
                                                              torch.device(result.device), config.train.seed)
        result.metrics = {**metrics, **result.metrics}
    return result, model


# --- the pieces of fit ----------------------------------------------------------------

def prepare_device(cfg: TrainConfig) -> torch.device:
    """The run's device, with its thread count (CPU) or TF32 matrix products (CUDA) set."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    if cfg.amp and device.type != "cuda":
        raise ConfigError("train.amp", "amp_needs_cuda")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return device


class Budget:
    """Epochs and/or seconds: the batch size, how far a run has come (0 -> 1), and when it is spent."""

    def __init__(self, cfg: TrainConfig, n: int):
        self.batch = n if cfg.optimizer == "gd" else min(cfg.batch_size, n)   # gd: the full batch
        self.steps_per_epoch = math.ceil(n / self.batch)
        self.max_steps = self.steps_per_epoch * cfg.epochs if cfg.epochs else None
        self.seconds = cfg.time_budget

    def progress(self, step: int, elapsed: float) -> float:
        return max(step / self.max_steps if self.max_steps else 0.0,
                   elapsed / self.seconds if self.seconds else 0.0)

    def spent(self, step: int, elapsed: float) -> bool:
        return bool((self.max_steps and step >= self.max_steps) or (self.seconds and elapsed >= self.seconds))


def shuffled_batches(n: int, batch: int, seed: int, device):
    """Index tensors of `batch` rows, epoch after epoch, each epoch in a fresh order drawn from `seed`."""
    order_gen = torch.Generator(device="cpu").manual_seed(seed)
    while True:
        order = torch.randperm(n, generator=order_gen).to(device)
        for i in range(0, n, batch):
            yield order[i:i + batch]


def make_train_step(model, optimizer, loss_of, grad_clip: float | None, amp: bool = False):
    """One optimizer step on one batch at learning rate `lr`; returns the loss as a tensor (no host sync).

    amp: the forward pass and the loss in bfloat16 where autocast deems it safe (CUDA); the weights and their
    updates stay float32."""

    def forward_loss(x, y) -> torch.Tensor:
        if amp:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                return loss_of(model(x), y)
        return loss_of(model(x), y)

    def train_step(x, y, lr: float) -> torch.Tensor:
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = forward_loss(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        return loss

    return train_step


class Validation:
    """The validation check: metrics out through on_eval, the best loss, early stopping with the best weights.

    The time it takes, the on_eval hooks' included (a decision boundary...), is kept in `seconds`:
    it is not training time, so samples/s leaves it out.
    """

    def __init__(self, model, data: TaskData, loss_of, device, every: int, steps_per_epoch: int,
                 patience: int | None, emit):
        self.model, self.data, self.loss_of, self.device, self.emit = model, data, loss_of, device, emit
        self.every, self.steps_per_epoch, self.patience = every, steps_per_epoch, patience
        self.best_loss, self.best_state, self.stale = math.inf, None, 0
        self.seconds = 0.0

    def check(self, step: int, start: float) -> Message | None:
        """Evaluate and report; the message that ends the run when early stopping says so, else None."""
        t0 = time.perf_counter()
        data = self.data
        val, _, _ = evaluation.evaluate(self.model, data.x_val, data.y_val, data.spec, self.loss_of, self.device, "val")
        self.emit("on_eval", step=step, epoch=step / self.steps_per_epoch, seconds=time.perf_counter() - start,
                  metrics=val, model=self.model, data=data, device=self.device)
        self.seconds += time.perf_counter() - t0
        return self._early_stop(val["val_loss"], step)

    def _early_stop(self, loss: float, step: int) -> Message | None:
        if loss < self.best_loss:
            self.best_loss, self.stale = loss, 0
            if self.patience:
                self.best_state = copy.deepcopy(self.model.state_dict())
            return None
        if not self.patience:
            return None
        self.stale += 1
        if self.stale < self.patience:
            return None
        return Message.of("early_stop", step=step, checks=self.stale)

    def finish(self, step: int, start: float):
        """A last check if training ended between two (the curves end where training ended),
        then back to the best weights when early stopping kept them."""
        if step % self.every:
            self.check(step, start)
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)


class _Emitter:
    """Calls one hook on every callback that defines it."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def __call__(self, hook: str, **info):
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:
                method(**info)
