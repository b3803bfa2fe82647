"""A stored run's model on new raw input: the engine behind "try it" and the prediction service.

    predictor = load(store, run_id)            # built and loaded once per process, then cached
    predictor.predict([[0.5, -1.2]])           # {"predictions": [1], "labels": [...], "probabilities": [[...]]}
    predictor.generate("The ", length=80)      # text runs: the prompt continued

Raw input is what a person has in hand: a 2-D point in the chart's coordinates, a
table row in its own units (cm, mg/l; standardised here the way training did), an
8x8 image with values in [0, 1], a signal of the task's length, a text prompt.
Weights come from safetensors and the config from JSON: nothing loaded is executed.
"""
from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass

import numpy as np
import torch

from modelkit import models
from modelkit.config import RunConfig
from modelkit.data import forecast, rows, tasks
from modelkit.data.tasks import TaskSpec
from modelkit.store.artifacts import NoModelError  # noqa: F401  (the one "no model": callers catch it here too)

MAX_INPUTS = 256          # examples in one call
INFERENCE_THREADS = 1     # one example at a time is quickest on one thread, and it leaves the other cores
                          # to training: on a busy CPU two threads waiting on each other ran 20x slower
MAX_LENGTH = 2000         # characters generated in one call


class InputError(ValueError):
    """Input a model cannot take, in one plain sentence (the service answers it with a 4xx)."""


@dataclass
class Predictor:
    run_id: str
    config: RunConfig
    spec: TaskSpec
    model: torch.nn.Module                 # on the CPU, in eval mode, never switched back to train
    mean: torch.Tensor | None = None       # table tasks: the training rows' feature means ...
    std: torch.Tensor | None = None        # ... and spreads, to standardise raw rows as training did
    series: dict | None = None             # an uploaded series: its scaling, so windows and forecasts are
                                           # in the series' own units (modelkit.data.forecast)
    inputs: list | None = None             # an uploaded table's input columns: a row may name a text
                                           # column's value, by position or by name (modelkit.data.rows)

    @property
    def kind(self) -> str:
        return self.spec.kind

    def tensor(self, inputs) -> torch.Tensor:
        """Raw examples (nested lists or an array) as one checked float batch, standardised if tabular,
        scaled as training scaled them if a series."""
        if self.spec.input_kind == "tokens":
            raise InputError("this model continues text: send prompts as strings")
        inputs = self.numbers(inputs)
        try:
            x = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
        except (ValueError, TypeError, OverflowError):
            raise InputError(f"inputs must be a list of examples, each of {_shape(self.spec.input_shape)} "
                             f"numbers") from None
        shape, size = tuple(self.spec.input_shape), math.prod(self.spec.input_shape)
        if x.ndim == 0 or len(x) == 0:
            raise InputError("inputs must be a non-empty list of examples")
        if len(x) > MAX_INPUTS:
            raise InputError(f"at most {MAX_INPUTS} examples per request; got {len(x)}")
        if tuple(x.shape[1:]) != shape and tuple(x.shape[1:]) != (size,):
            raise InputError(f"each example must have the shape {_shape(shape)}; got {_shape(tuple(x.shape[1:]))}")
        if not torch.isfinite(x).all():
            raise InputError("inputs must be finite numbers (no NaN or infinity)")
        x = x.reshape(len(x), *shape)
        if self.mean is not None:
            x = (x - self.mean) / self.std
        if self.series is not None:
            x = torch.from_numpy(forecast.to_model(x.reshape(len(x), shape[0], -1).numpy(), self.series))
        return x

    def numbers(self, inputs):
        """Table rows as the model's columns in their own units (a text column's value as its one-hot
        columns, a row by column name in the file's order); other inputs unchanged."""
        try:
            return rows.to_numbers(self.inputs, inputs)
        except ValueError as e:
            raise InputError(str(e)) from None

    @torch.inference_mode()
    def predict(self, inputs) -> dict:
        """Classes: predictions (class ids), labels and probabilities; forecasts: predictions (values; for a
        series, (horizon,) per window in its own units, or (horizon, targets) with several targets)."""
        out = self.model(self.tensor(inputs)).float()
        if self.series is not None:
            return {"predictions": self.forecast(inputs, out)}
        if self.kind == "regression":
            return {"predictions": _rounded(out)}
        probs = out.softmax(-1)
        ids = probs.argmax(-1).tolist()
        return {"predictions": ids, "labels": [self.label(i) for i in ids], "probabilities": _rounded(probs)}

    def forecast(self, inputs, out: torch.Tensor) -> list:
        """A series model's outputs as forecasts in own units, from each window's last values."""
        windows = np.asarray(inputs, dtype=np.float64).reshape(len(out), self.spec.input_shape[0], -1)
        scale = self.series
        last = windows[:, -1, [scale["inputs"].index(c) for c in scale["targets"]]]
        values = forecast.from_model(out.numpy(), last, scale)
        return _rounded(torch.from_numpy(values[:, :, 0] if values.shape[2] == 1 else values))

    def label(self, class_id: int) -> str:
        names = self.spec.class_names
        return names[class_id] if class_id < len(names) else str(class_id)

    def encode(self, prompt: str) -> list[int]:
        if not isinstance(prompt, str):
            raise InputError("a prompt must be a string")
        unknown = sorted(set(prompt) - set(self.spec.vocab))
        if unknown:
            raise InputError("the model never saw these characters: " + " ".join(repr(c) for c in unknown[:10]))
        index = {c: i for i, c in enumerate(self.spec.vocab)}
        return [index[c] for c in prompt]

    @torch.inference_mode()
    def generate(self, prompt: str, length: int = 200, temperature: float = 0.8, seed: int = 0) -> str:
        """The prompt continued by `length` characters sampled at `temperature` (lower = safer choices)."""
        if self.kind != "lm":
            raise InputError("only a text model generates text; send numbers to predict")
        ids = self.encode(prompt) or [self.spec.vocab.find(" ") if " " in self.spec.vocab else 0]
        if not 0 < length <= MAX_LENGTH:
            raise InputError(f"length must be 1 to {MAX_LENGTH} characters; got {length}")
        if not 0.01 <= temperature <= 5:
            raise InputError(f"temperature must be between 0.01 and 5; got {temperature}")
        g = torch.Generator().manual_seed(seed)
        context = self.spec.input_shape[0]
        start = len(ids)
        for _ in range(length):
            logits = self.model(torch.tensor([ids[-context:]]))[0, -1].float() / temperature  # (vocab,)
            ids.append(int(torch.multinomial(logits.softmax(-1), 1, generator=g)))
        return prompt + "".join(self.spec.vocab[i] for i in ids[start:])


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ")" if len(shape) != 1 else str(shape[0])


def _rounded(t: torch.Tensor) -> list:
    return np.round(t.numpy().astype(np.float64), 6).tolist()


# --- loading, once per process --------------------------------------------------

_CACHE: dict[tuple, Predictor] = {}
_LOCK = threading.Lock()


def load(store, run_id: str) -> Predictor:
    """The run's trained model, ready for raw input; cached until its weights change."""
    weights = store.weights_file(run_id)   # NoModelError without trained weights; named by its SHA-256
    key = (run_id, weights.name)
    with _LOCK:
        predictor = _CACHE.get(key)
        if predictor is None:
            predictor = _build(store, run_id)
            _CACHE[key] = predictor
            while len(_CACHE) > 8:          # a long-lived server keeps memory bounded
                _CACHE.pop(next(iter(_CACHE)))
    return predictor


def _build(store, run_id: str) -> Predictor:
    torch.set_num_threads(INFERENCE_THREADS)   # this process answers; training runs in worker processes
    config, data, model = store.load_model(run_id)
    with torch.inference_mode():
        model.eval()(models.example_input(data.spec, 1))   # warm up, so the first answer is as quick as the rest
    predictor = Predictor(run_id, config, data.spec, model)
    if tasks.task_info(config.task.name).table:
        predictor.mean, predictor.std = data.extra["feature_mean"], data.extra["feature_std"]
        predictor.inputs = data.extra.get("table_inputs") or None
    if "series" in data.extra:
        predictor.series = data.extra["series"]["scale"]
    return predictor


def raw_table(config: RunConfig) -> tasks.TaskData:
    """A table task's split in its own units (not standardised); the columns' names in extra["feature_names"]."""
    data = tasks.load(config.task)
    return dataclasses.replace(data, x_train=tasks.in_own_units(data, data.x_train),
                               x_val=tasks.in_own_units(data, data.x_val), x_test=tasks.in_own_units(data, data.x_test))


def example_inputs(predictor: Predictor, n: int = 8) -> list:
    """The first `n` test examples as raw input (table rows in their own units; text as prompts)."""
    if predictor.mean is not None:   # a text column by its value
        return rows.to_people(predictor.inputs, raw_table(predictor.config).x_test[:n].tolist())
    data = tasks.load(predictor.config.task)
    if predictor.series is not None:
        return [forecast.test_window(data.extra["series"], i)[0].reshape(predictor.spec.input_shape).tolist()
                for i in range(min(n, len(data.x_test)))]
    if predictor.spec.input_kind == "tokens":
        return ["".join(predictor.spec.vocab[i] for i in row[:32].tolist()) for row in data.x_test[:n]]
    return data.x_test[:n].tolist()


def image_from_drawing(rgba: np.ndarray, size: int = 8) -> np.ndarray:
    """A drawing (H, W, 4) as a size x size image in [0, 1], framed like the digits it learned from.

    The ink (alpha) is cropped to its bounding box, centred in a square with a one-pixel-in-eight
    margin, averaged down block by block, and scaled so its darkest pixel is 1.
    """
    ink = np.asarray(rgba, dtype=np.float32)[..., 3] / 255.0
    rows, cols = np.nonzero(ink > 0.05)
    if len(rows) == 0:
        return np.zeros((size, size), dtype=np.float32)
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    side = int(max(ink.shape) * size / (size - 1)) + 1        # the digit fills 7 of 8 pixels across
    side += (-side) % size                                     # whole blocks
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    square[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    block = side // size
    small = square.reshape(size, block, size, block).mean(axis=(1, 3))
    return small / max(float(small.max()), 1e-6)
