"""RunConfig = TaskConfig + ModelConfig + TrainConfig: validated, JSON round-trip.

Each section is a dataclass whose fields carry a plain-language description and
their allowed values (see `option`). `parse` builds a section from a dict and
refuses unknown keys, wrong types and out-of-range values with a `ConfigError`
that names the field. The model section depends on the architecture: each model
family owns its dataclass (modelkit/models/*), looked up through the registry.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """A refused configuration value; `path` names the field (e.g. train.lr)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def option(default, help: str, *, low=None, high=None, choices=None, low_open=False):
    """A config field with its description and allowed values.

    low/high bound numbers (and each item of a list of numbers); low_open makes
    the lower bound exclusive (a learning rate must be > 0, not >= 0).
    """
    meta = {"help": help, "low": low, "high": high, "choices": choices, "low_open": low_open}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: json.loads(json.dumps(default)), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def describe(cls) -> dict[str, dict]:
    """Field name -> {help, low, high, choices, default, type} for pages and CLI help."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        out[f.name] = dict(f.metadata, default=default, type=_type_name(hints[f.name]))
    return out


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp, path: str):
    """Check `value` against the annotation `tp`, converting only where lossless."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], path)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(path, f"expected a list of {item_tp.__name__}, e.g. [64, 64]; got {value!r}")
        return [_coerce(v, item_tp, path) for v in value]
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(path, f"expected true or false; got {value!r}")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ConfigError(path, f"expected a whole number; got {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, f"expected a number; got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected text; got {value!r}")
        return value
    raise TypeError(f"unsupported config type {tp} at {path}")


def _check_range(value, meta: dict, path: str):
    items = value if isinstance(value, list) else [value]
    for v in items:
        if v is None:
            continue
        if meta.get("choices") is not None and v not in meta["choices"]:
            allowed = ", ".join(str(c) for c in meta["choices"])
            raise ConfigError(path, f"{v!r} is not allowed; choose one of: {allowed}")
        low, high = meta.get("low"), meta.get("high")
        if low is not None:
            if meta.get("low_open") and not v > low:
                raise ConfigError(path, f"must be greater than {low}; got {v}")
            if not meta.get("low_open") and v < low:
                raise ConfigError(path, f"must be at least {low}; got {v}")
        if high is not None and v > high:
            raise ConfigError(path, f"must be at most {high}; got {v}")


def parse(cls, data: dict | None, path: str):
    """Build dataclass `cls` from `data`, refusing unknown keys and bad values."""
    data = dict(data or {})
    if not isinstance(data, dict):
        raise ConfigError(path, f"expected a mapping; got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(f"{path}.{unknown[0]}" if path else unknown[0],
                          f"unknown setting; known settings here are: {', '.join(names)}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        sub = f"{path}.{f.name}" if path else f.name
        value = _coerce(data[f.name], hints[f.name], sub)
        _check_range(value, f.metadata, sub)
        kwargs[f.name] = value
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if check is not None:
        check(path)  # cross-field rules of a section raise ConfigError themselves
    return obj


def parse_value(text: str):
    """A --set value: JSON where it parses (numbers, lists, true/false), else plain text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


# --- the three sections -----------------------------------------------------

TASK_NAMES = ("moons", "circles", "spiral", "xor", "blobs", "iris", "wine", "breast_cancer",
              "digits", "mnist1d", "sine", "text")


@dataclass
class TaskConfig:
    name: str = option("moons", "Which data to learn from.", choices=TASK_NAMES)
    n_samples: int = option(1000, "How many points to generate (2-D toy sets and sine only).", low=50, high=100_000)
    noise: float = option(0.1, "How much random jitter is added to the data (2-D toy sets and sine).", low=0.0, high=2.0)
    val_fraction: float = option(0.15, "Share of the data held back to check the model while it trains.", low=0.05, high=0.5)
    test_fraction: float = option(0.2, "Share of the data kept aside for the final, honest test.", low=0.05, high=0.5)
    seq_len: int = option(64, "How many characters (text) or past values (sine) the model sees at once.", low=4, high=1024)
    horizon: int = option(5, "How many future values to predict (sine).", low=1, high=100)
    text: str | None = option(None, "Your own UTF-8 text to learn from (text task); empty uses Python's bundled English docs.")
    seed: int = option(0, "Fixes how the data is generated and split, so runs compare on the same data.", low=0)


OPTIMIZERS = ("gd", "sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "step", "cosine", "warmup_cosine")
LOSSES = ("auto", "cross_entropy", "mse", "mae")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class TrainConfig:
    optimizer: str = option("adam", "How the weights are updated: gd (full-batch gradient descent), sgd, adam, adamw or rmsprop.", choices=OPTIMIZERS)
    lr: float = option(0.003, "Learning rate: how big each update step is. Too high diverges, too low crawls.", low=0.0, high=10.0, low_open=True)
    momentum: float = option(0.9, "SGD only: how much of the previous step carries into the next.", low=0.0, high=0.999)
    nesterov: bool = option(False, "SGD only: look ahead along the momentum before taking the gradient.")
    batch_size: int = option(64, "How many examples are used for each update step.", low=1, high=65536)
    weight_decay: float = option(0.0, "Pulls weights towards zero each step; helps against overfitting.", low=0.0, high=1.0)
    grad_clip: float = option(0.0, "Caps the size of the gradient (0 = off); tames exploding updates.", low=0.0, high=1000.0)
    schedule: str = option("constant", "How the learning rate changes over the run: constant, step, cosine, or warm-up then cosine.", choices=SCHEDULES)
    warmup_fraction: float = option(0.05, "warmup_cosine only: share of the run spent slowly raising the learning rate.", low=0.0, high=0.5)
    step_every: int = option(10, "step only: divide the learning rate every this many epochs.", low=1)
    step_gamma: float = option(0.5, "step only: the factor the learning rate is multiplied by at each step.", low=0.01, high=1.0)
    epochs: int | None = option(20, "How many passes over the training data (empty = until the time budget ends).", low=1, high=100_000)
    time_budget: float | None = option(None, "Stop after this many seconds (empty = no time limit). With epochs, whichever ends first.", low=0.0, high=86_400.0, low_open=True)
    eval_every: int = option(0, "Check the validation data every this many steps (0 = once per epoch).", low=0)
    early_stopping: int = option(0, "Stop when the validation loss has not improved for this many checks (0 = off).", low=0)
    loss: str = option("auto", "What the model is punished for: auto (cross-entropy for classes, MSE for numbers), cross_entropy, mse or mae.", choices=LOSSES)
    seed: int = option(0, "Fixes the random start, so the same settings give the same result.", low=0)
    device: str = option("auto", "Where to train: auto picks a GPU when there is one, else the CPU.", choices=DEVICES)
    threads: int = option(0, "CPU threads for this run (0 = PyTorch's choice).", low=0, high=256)

    def check(self, path: str):
        if self.epochs is None and self.time_budget is None:
            raise ConfigError(f"{path}.epochs", "give a number of epochs or a time budget (or both)")


@dataclass
class RunConfig:
    """A whole run. `model` is the architecture's own config dataclass."""
    task: TaskConfig
    model: Any
    train: TrainConfig
    name: str = ""

    @property
    def arch(self) -> str:
        return self.model.arch

    def to_dict(self) -> dict:
        return {"name": self.name, "task": dataclasses.asdict(self.task),
                "model": dataclasses.asdict(self.model), "train": dataclasses.asdict(self.train)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> "RunConfig":
        from modelkit.models import model_config_class  # the registry knows each family's config

        if not isinstance(data, dict):
            raise ConfigError("", "a run configuration must be a JSON object")
        unknown = sorted(set(data) - {"name", "task", "model", "train"})
        if unknown:
            raise ConfigError(unknown[0], "unknown section; the sections are task, model and train")
        model_data = dict(data.get("model") or {})
        arch = model_data.get("arch", "mlp")
        model_cls = model_config_class(arch)  # raises ConfigError listing the architectures
        name = data.get("name", "")
        if not isinstance(name, str):
            raise ConfigError("name", f"expected text; got {name!r}")
        return cls(task=parse(TaskConfig, data.get("task"), "task"),
                   model=parse(model_cls, model_data, "model"),
                   train=parse(TrainConfig, data.get("train"), "train"),
                   name=name)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError("", f"the configuration is not valid JSON ({e.msg}, line {e.lineno})") from None
        return cls.from_dict(data)


def with_overrides(data: dict, sets: list[str]) -> dict:
    """Apply `key.path=value` strings to a config dict (a copy); values parse as JSON."""
    data = json.loads(json.dumps(data))
    for item in sets:
        if "=" not in item:
            raise ConfigError(item, "expected key=value, e.g. train.lr=0.01")
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        if len(parts) != 2 or parts[0] not in ("task", "model", "train"):
            raise ConfigError(key, "expected section.field with section task, model or train, e.g. train.lr")
        data.setdefault(parts[0], {})[parts[1]] = parse_value(text.strip())
    return data


def make_config(task: str, arch: str, sets: list[str] | None = None, base: dict | None = None) -> RunConfig:
    """The config for `task` x `arch`: the architecture's defaults for that task, then `sets`."""
    from modelkit.models import default_model_dict

    data = json.loads(json.dumps(base or {}))
    data.setdefault("task", {})["name"] = task
    model = default_model_dict(arch, task)
    model.update({k: v for k, v in (data.get("model") or {}).items() if k != "arch"})
    data["model"] = model
    from modelkit.tasks import default_train_dict

    train = default_train_dict(task, arch)
    train.update(data.get("train") or {})
    data["train"] = train
    return RunConfig.from_dict(with_overrides(data, sets or []))
