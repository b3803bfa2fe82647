"""Config fields: the machinery every settings section uses, below everything else in modelkit.

A section is a dataclass whose fields are made with `option`: a default, the
allowed values, and the inputs or sibling settings it applies to. `parse` builds a
section from a dict and is the one door every value passes (form, URL, --set,
--config): unknown keys, wrong types, NaN and infinity, out-of-range numbers,
over-long text and lists are refused with a `ConfigError` that carries the field's
path, a stable code and its parameters. The words for a code live in the
translation files (`error.<code>`), so the CLI and every page say it alike.

The task and train sections live here too; each model family owns its section
(modelkit/models/*). Words for the fields (labels, help) are in the translation
files under `field.<section>.<name>` and `help.<section>.<name>`.
"""
from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any

from modelkit.text import DEFAULT, translate

MAX_SEED = 2**32 - 1         # what torch and numpy accept as a seed
MAX_TEXT = 1_000_000         # characters of own text (a few MB of tensors once windowed)
MAX_NAME = 200               # characters of any other text setting
SECTIONS = ("task", "model", "train")   # the parts of a run's config, in the order they are shown
MAX_LIST = 64                # items of any list setting
CORPORA = ("en", "zh")       # the text task's bundled texts: English (Python's docs), Chinese (Tang poems)


class ConfigError(ValueError):
    """A refused setting: `path` names the field (train.lr), `code` the rule (error.<code> in the
    translation files), `params` what its text needs ({low}, {high}, {choices}, ...)."""

    def __init__(self, path: str, code: str, **params):
        self.path, self.code, self.params = path, code, params
        super().__init__(str(self))

    def text(self, lang: str = DEFAULT) -> str:
        """The refusal in `lang`, without the field's path."""
        return translate(lang, f"error.{self.code}", **self.params)

    @property
    def message(self) -> str:
        return self.text(DEFAULT)

    def __str__(self) -> str:
        got = f" (got {self.params['value']})" if "value" in self.params else ""
        return f"{self.path}: {self.message}{got}" if self.path else self.message + got


def option(default, *, low=None, high=None, choices=None, low_open=False, when=None, max_len=MAX_NAME):
    """A config field with its allowed values.

    low/high bound numbers (and each item of a list of numbers); low_open makes the lower
    bound exclusive (a learning rate must be > 0, not >= 0). `when` says where the field
    means something, e.g. {"optimizer": ("sgd",)} or {"input": ("sequence",)} (the task's
    input kind); forms hide or disable it elsewhere. max_len bounds text and lists.
    """
    meta = {"low": low, "high": high, "choices": choices, "low_open": low_open, "when": when or {},
            "max_len": max_len}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: json.loads(json.dumps(default)), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def describe(cls) -> dict[str, dict]:
    """Field name -> {low, high, choices, low_open, when, max_len, default, type} for forms and the CLI."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        out[f.name] = dict(f.metadata, default=default, type=_type_name(hints[f.name]))
    return out


def applies(meta: dict, context: dict) -> bool:
    """Whether a field means something where `context` holds (sibling values, "input": input kind).

    Conditions on names the context does not hold are left open."""
    return all(context[name] in allowed for name, allowed in meta.get("when", {}).items() if name in context)


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _number(bound) -> str | None:
    """A bound as a person writes it: 4294967295, 0.5, 1e-05."""
    if bound is None:
        return None
    return str(int(bound)) if float(bound).is_integer() and abs(bound) < 1e15 else f"{bound:g}"


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _coerce(value: Any, tp, path: str, max_len: int):
    """Check `value` against the annotation `tp`, converting only where lossless."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], path, max_len)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(path, "type_list", value=_shown(value))
        if len(value) > MAX_LIST:
            raise ConfigError(path, "too_many", n=MAX_LIST)
        items = []
        for v in value:
            if isinstance(v, (list, tuple, dict)):
                raise ConfigError(path, "type_list", value=_shown(value))
            items.append(_coerce(v, item_tp, path, max_len))
        return items
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(path, "type_bool", value=_shown(value))
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, "type_int" if tp is int else "type_number", value=_shown(value))
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(path, "not_finite", value=_shown(value))
        if isinstance(value, int) and abs(value) > 2**1023:   # past what a float can hold (10^400 written out)
            raise ConfigError(path, "not_finite", value=_shown(value))
        if tp is int:
            if int(value) != value:
                raise ConfigError(path, "type_int", value=_shown(value))
            return int(value)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, "type_text", value=_shown(value))
        if len(value) > max_len:
            raise ConfigError(path, "too_long", n=f"{max_len:,}")
        return value
    raise TypeError(f"unsupported config type {tp} at {path}")   # a programming error, not a user's


def _check_range(value, meta: dict, path: str):
    items = value if isinstance(value, list) else [value]
    for v in items:
        if v is None:
            continue
        if meta.get("choices") is not None and v not in meta["choices"]:
            raise ConfigError(path, "choice", choices=", ".join(str(c) for c in meta["choices"]), value=_shown(v))
        low, high, low_open = meta.get("low"), meta.get("high"), meta.get("low_open")
        too_low = low is not None and (v <= low if low_open else v < low)
        too_high = high is not None and v > high
        if not (too_low or too_high):
            continue
        bounds = {"low": _number(low), "high": _number(high)}
        if low is not None and high is not None:
            code = "range_open" if low_open else "range"
        else:
            code = "above" if low_open else "at_least" if low is not None else "at_most"
        raise ConfigError(path, code, **{k: b for k, b in bounds.items() if b is not None}, value=_shown(v))


def parse(cls, data: dict | None, path: str):
    """Build dataclass `cls` from `data`, refusing unknown keys and bad values."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(path, "not_mapping", value=_shown(data))
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(str(k) for k in set(data) - set(names))
    if unknown:
        raise ConfigError(f"{path}.{unknown[0]}" if path else unknown[0], "unknown_setting", known=", ".join(names))
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        sub = f"{path}.{f.name}" if path else f.name
        value = _coerce(data[f.name], hints[f.name], sub, f.metadata.get("max_len", MAX_NAME))
        _check_range(value, f.metadata, sub)
        kwargs[f.name] = value
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if check is not None:
        check(path)  # cross-field rules of a section raise ConfigError themselves
    return obj


def parse_value(text: str, path: str = ""):
    """A --set or URL value: JSON where it parses (numbers, lists, true/false), else plain text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
    except RecursionError:
        raise ConfigError(path, "too_deep") from None
    except ValueError:   # an integer of more digits than Python converts (4,300)
        raise ConfigError(path, "number_too_long") from None


# --- the task and train sections ------------------------------------------------------

@dataclass
class TaskConfig:
    name: str = option("moons", max_len=64)           # a task of the registry (modelkit.data.tasks)
    n_samples: int = option(1000, low=50, high=100_000)
    noise: float = option(0.1, low=0.0, high=2.0)
    val_fraction: float = option(0.15, low=0.05, high=0.5)
    test_fraction: float = option(0.2, low=0.05, high=0.5)
    seq_len: int = option(64, low=4, high=1024)
    horizon: int = option(5, low=1, high=100)
    corpus: str = option("en", choices=CORPORA)       # the bundled text when there is no own text (modelkit.data.tasks)
    text: str | None = option(None, max_len=MAX_TEXT)  # own text for the language model; None: the bundled one
    seed: int = option(0, low=0, high=MAX_SEED)
    holdout: float = option(0.0, low=0.0, high=0.5)   # rows held back from every split: a hidden test's (room.hidden)


OPTIMIZERS = ("gd", "sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "step", "cosine", "warmup_cosine")
LOSSES = ("auto", "cross_entropy", "mse", "mae")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class TrainConfig:
    optimizer: str = option("adam", choices=OPTIMIZERS)
    lr: float = option(0.003, low=0.0, high=10.0, low_open=True)
    momentum: float = option(0.9, low=0.0, high=0.999, when={"optimizer": ("sgd",)})
    nesterov: bool = option(False, when={"optimizer": ("sgd",)})
    batch_size: int = option(64, low=1, high=65536, when={"optimizer": ("sgd", "adam", "adamw", "rmsprop")})
    weight_decay: float = option(0.0, low=0.0, high=1.0)
    grad_clip: float = option(0.0, low=0.0, high=1000.0)
    schedule: str = option("constant", choices=SCHEDULES)
    warmup_fraction: float = option(0.05, low=0.0, high=0.5, when={"schedule": ("warmup_cosine",)})
    step_every: int = option(10, low=1, high=100_000, when={"schedule": ("step",)})
    step_gamma: float = option(0.5, low=0.01, high=1.0, when={"schedule": ("step",)})
    epochs: int | None = option(20, low=1, high=100_000)           # None: until the time budget ends
    time_budget: float | None = option(None, low=0.0, high=86_400.0, low_open=True)   # seconds
    eval_every: int = option(0, low=0, high=10_000_000)            # 0: once per epoch
    early_stopping: int = option(0, low=0, high=100_000)           # checks without improvement; 0: off
    loss: str = option("auto", choices=LOSSES)
    seed: int = option(0, low=0, high=MAX_SEED)
    device: str = option("auto", choices=DEVICES)
    threads: int = option(0, low=0, high=256)                      # 0: PyTorch's choice
    amp: bool = option(False, when={"device": ("auto", "cuda")})   # bf16 autocast; CUDA only

    def check(self, path: str):
        if self.epochs is None and self.time_budget is None:
            raise ConfigError(f"{path}.epochs", "budget")
        if self.amp and self.device in ("cpu", "mps"):
            raise ConfigError(f"{path}.amp", "amp_needs_cuda")
