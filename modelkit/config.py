"""RunConfig = TaskConfig + ModelConfig + TrainConfig: validated, JSON round-trip, and the defaults.

The field machinery and the task and train sections live in modelkit.fields; each
model family owns its section (modelkit/models/*), found through the registry. This
module puts a run together: `RunConfig` (with the rules that span sections, such as
a loss that must fit the task), `with_overrides` for `key.path=value` strings, and
`make_config`, which lays a family's tuned defaults (on its registry entry) over
the task's own.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from modelkit import models
from modelkit.data import tasks
from modelkit.fields import (  # noqa: F401
    MAX_NAME,
    SECTIONS,
    ConfigError,
    TaskConfig,
    TrainConfig,
    applies,
    describe,
    parse,
    parse_value,
)

# --- default tables ---------------------------------------------------------------------
# Looked up as "*" (everywhere), then the task's input kind, then the task's name; later entries win.

# Training defaults of the tasks themselves (a family's own are on its models.ARCHS entry).
TASK_TRAIN_DEFAULTS: dict[str, dict] = {
    "*": {"epochs": 20},
    "vector": {"epochs": 60, "lr": 0.01},
    "iris": {"epochs": 100, "batch_size": 32, "lr": 0.003},
    "wine": {"epochs": 100, "batch_size": 32, "lr": 0.003},
    "breast_cancer": {"epochs": 100, "batch_size": 32, "lr": 0.003},
    "tokens": {"epochs": None, "time_budget": 60.0, "eval_every": 50, "schedule": "constant"},
}


def _lookup(table: dict, task: str) -> dict:
    info = tasks.task_info(task)
    out = {}
    for key in ("*", info.input_kind, info.name):
        out.update(table.get(key, {}))
    return out


def default_model_dict(arch: str, task: str) -> dict:
    """The model section for `arch` on `task`: the family's defaults with per-task sizes."""
    models.check_fits(arch, task, tasks.task_info(task).input_kind)
    data = dataclasses.asdict(models.model_config_class(arch)(arch=arch))
    data.update(_lookup(models.family(arch).sizes, task))
    return data


def default_train_dict(task: str, arch: str) -> dict:
    """Training defaults for a task and architecture: the family's tuned overrides on the task's own."""
    models.check_fits(arch, task, tasks.task_info(task).input_kind)
    return {**_lookup(TASK_TRAIN_DEFAULTS, task),
            **_lookup(models.family(arch).training, task)}


# --- the run -----------------------------------------------------------------------------

GROUP_KINDS = ("compare", "race", "sweep", "scale")   # a run's group: a comparison, the paper's race, a sweep, a ladder


@dataclass
class RunConfig:
    """A whole run. `model` is the architecture's own config dataclass. `group`: the comparison, sweep or
    size ladder it was started in, as facts a page names in its reader's language ({} for none):
    {"kind": "sweep", "at": unix seconds, "axes": ["train.lr", "model.hidden"]} (the settings it varies)."""
    task: TaskConfig
    model: Any
    train: TrainConfig
    name: str = ""
    group: dict = field(default_factory=dict)

    @property
    def arch(self) -> str:
        return self.model.arch

    def to_dict(self) -> dict:
        out = {"name": self.name, "task": dataclasses.asdict(self.task),
               "model": dataclasses.asdict(self.model), "train": dataclasses.asdict(self.train)}
        if self.group:   # a run of no group keeps the JSON it always had
            out["group"] = dict(self.group)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> "RunConfig":
        if not isinstance(data, dict):
            raise ConfigError("", "not_object")
        unknown = sorted(str(k) for k in set(data) - {"name", "group", *SECTIONS})
        if unknown:
            raise ConfigError(unknown[0], "unknown_section")
        model_data = data.get("model")
        if model_data is not None and not isinstance(model_data, dict):
            raise ConfigError("model", "not_mapping")
        model_data = dict(model_data or {})
        model_cls = models.model_config_class(model_data.get("arch", "mlp"))
        name = data.get("name", "")
        if not isinstance(name, str):
            raise ConfigError("name", "type_text")
        if len(name) > MAX_NAME:
            raise ConfigError("name", "too_long", n=MAX_NAME)
        config = cls(task=parse(TaskConfig, data.get("task"), "task"),
                     model=parse(model_cls, model_data, "model"),
                     train=parse(TrainConfig, data.get("train"), "train"), name=name,
                     group=parse_group(data.get("group")))
        config.check()
        return config

    def check(self):
        """The rules that span sections: the task exists and accepts its settings, the architecture
        fits it, the loss fits its kind."""
        info = tasks.task_info(self.task.name)
        tasks.check(self.task)
        models.check_fits(self.arch, info.name, info.input_kind)
        tasks.fitting_loss(self.train.loss, info.kind)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError("", "bad_json", detail=f"{e.msg}, line {e.lineno}") from None
        except RecursionError:
            raise ConfigError("", "too_deep") from None
        return cls.from_dict(data)


def parse_group(data) -> dict:
    """A config's `group` checked: a known kind, a time, the settings it varies ({} for none)."""
    if not data:
        return {}
    if not isinstance(data, dict) or set(data) - {"kind", "at", "axes"} or data.get("kind") not in GROUP_KINDS:
        raise ConfigError("group", "bad_group")
    at, axes = data.get("at"), data.get("axes", [])
    if isinstance(at, bool) or not isinstance(at, (int, float)) or not isinstance(axes, list) or \
            not all(isinstance(a, str) and a.split(".")[0] in SECTIONS and "." in a for a in axes):
        raise ConfigError("group", "bad_group")
    return {"kind": data["kind"], "at": at, "axes": list(axes)}


def with_overrides(data: dict, sets: list[str]) -> dict:
    """Apply `key.path=value` strings to a config dict (a copy); values parse as JSON."""
    data = json.loads(json.dumps(data))
    for item in sets:
        if "=" not in item:
            raise ConfigError(item[:40], "set_syntax")
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        if len(parts) != 2 or parts[0] not in SECTIONS:
            raise ConfigError(key[:40], "set_path")
        section = data.setdefault(parts[0], {})
        if not isinstance(section, dict):
            raise ConfigError(parts[0], "not_mapping")
        section[parts[1]] = parse_value(text.strip(), key.strip())
    return data


def make_config(task: str, arch: str, sets: list[str] | None = None, base: dict | None = None) -> RunConfig:
    """The config for `task` x `arch`: the architecture's defaults for that task, then `base`, then `sets`."""
    if not isinstance(task, str) or not isinstance(arch, str):
        raise ConfigError("task.name" if not isinstance(task, str) else "model.arch", "type_text")
    data = json.loads(json.dumps(base or {}))
    for section in SECTIONS:
        if not isinstance(data.get(section) or {}, dict):
            raise ConfigError(section, "not_mapping")
    data.setdefault("task", {})["name"] = task
    model = default_model_dict(arch, task)
    model.update({k: v for k, v in (data.get("model") or {}).items() if k != "arch"})
    data["model"] = model
    data["train"] = {**default_train_dict(task, arch), **(data.get("train") or {})}
    return RunConfig.from_dict(with_overrides(data, sets or []))
