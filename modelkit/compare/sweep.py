"""Sweeps and scale ladders: many runs of one architecture, planned here, queued by the runner.

A sweep varies one or two settings over a small grid (at most MAX_RUNS runs) with everything else, the
budget included, the same; `grid_table` turns its runs into the heatmap of their validation metric. A scale
ladder is one family at 4-6 sizes spanning about 100x in parameters; `scale_table` and `where_it_stopped`
say what the extra parameters bought. Pure functions over configs, `Run` records and point frames.
"""
from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence

import pandas as pd

from modelkit import models
from modelkit.compare.race import higher_is_better
from modelkit.config import ConfigError, RunConfig
from modelkit.data import tasks
from modelkit.fields import parse_value

MAX_RUNS = 16          # runs one sweep may queue
MAX_AXES = 2           # settings one sweep may vary
SWEEPABLE = ("train.lr", "train.batch_size", "train.weight_decay", "model.hidden", "model.channels",
             "model.hidden_size", "model.layers", "model.d_model", "model.dropout")
# the factors a scale ladder tries on the family's default size (of its entry's `scale` setting)
SCALE_FACTORS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8)
SCALE_SIZES, SCALE_SPAN = 5, 100.0   # sizes in a ladder, and the parameter ratio it aims to span
PAYING = 0.01          # a step up in size that gains less than this (accuracy, R²...) no longer pays


def sweepable(config: RunConfig) -> list[str]:
    """The settings of SWEEPABLE that `config`'s architecture has, in that order."""
    data = config.to_dict()
    return [p for p in SWEEPABLE if p.split(".")[1] in data[p.split(".")[0]]]


def parse_values(text: str, path: str) -> list:
    """A comma-separated list of values ("0.001, 0.01, 0.1") as numbers; refused when empty."""
    values = [parse_value(part.strip(), path) for part in str(text).split(",") if part.strip()]
    if not values:
        raise ConfigError(path, "sweep_values")
    return list(dict.fromkeys(values))


def with_setting(data: dict, path: str, value) -> dict:
    """`data` (a config dict) with `path` set; a single number for a list of layer sizes sets every layer."""
    section, field = path.split(".")
    old = data[section].get(field)
    data[section][field] = [value] * len(old) if isinstance(old, list) and not isinstance(value, list) else value
    return data


def expand(base: RunConfig, axes: Mapping[str, Sequence], cap: int = MAX_RUNS) -> list[RunConfig]:
    """One config per cell of the grid `axes` ({path: values}, one or two paths), the first path varying
    slowest; each checked like any run's, in `base`'s group with the settings it varies. Refused: no axis
    or more than MAX_AXES, an empty axis, more than `cap` cells."""
    if not 1 <= len(axes) <= MAX_AXES:
        raise ConfigError("sweep", "sweep_axes", n=MAX_AXES)
    for path, values in axes.items():
        if not values:
            raise ConfigError(path, "sweep_values")
    cells = math.prod(len(v) for v in axes.values())
    if cells > cap:
        raise ConfigError("sweep", "sweep_too_big", n=cells, cap=cap)
    configs = []
    for combo in itertools.product(*axes.values()):
        data = base.to_dict()
        for path, value in zip(axes, combo):
            data = with_setting(data, path, value)
        config = RunConfig.from_dict(data)
        config.group = {**base.group, "axes": list(axes)} if base.group else {}   # named by a page, in its language
        configs.append(config)
    return configs


def setting_of(run, path: str):
    """The value of `path` in a stored run's config; a list of equal layer sizes reads as that size."""
    section, field = path.split(".")
    value = (run.config.get(section) or {}).get(field)
    if isinstance(value, list) and value and len(set(value)) == 1:
        return value[0]
    return json.dumps(value) if isinstance(value, list) else value


def best_value(frame: pd.DataFrame | None, metric: str) -> float:
    """The best value of `metric` among a run's points so far (NaN when it has none yet)."""
    if frame is None or frame.empty:
        return math.nan
    values = frame.loc[frame["name"] == metric, "value"].dropna()
    if values.empty:
        return math.nan
    return float(values.max() if higher_is_better(metric) else values.min())


def grid_table(runs: Sequence, points: Mapping[str, pd.DataFrame], axes: Sequence[str], metric: str,
               values: Mapping[str, Sequence] | None = None) -> tuple[pd.DataFrame, tuple | None]:
    """The sweep's heatmap: rows = values of the second axis ("" for a one-setting sweep), columns = values
    of the first, cells = each run's best `metric` so far (NaN: not yet). With it, (x, y) of the best cell."""
    x_path, y_path = axes[0], axes[1] if len(axes) > 1 else None
    cells = {(setting_of(r, x_path), setting_of(r, y_path) if y_path else ""): best_value(points.get(r.id), metric)
             for r in runs}
    xs = list(values[x_path]) if values else list(dict.fromkeys(x for x, _ in cells))
    ys = (list(values[y_path]) if values else list(dict.fromkeys(y for _, y in cells))) if y_path else [""]
    table = pd.DataFrame([[cells.get((x, y), math.nan) for x in xs] for y in ys], index=ys, columns=xs, dtype=float)
    filled = {cell: v for cell, v in cells.items() if not math.isnan(v)}
    if not filled:
        return table, None
    pick = max if higher_is_better(metric) else min
    return table, pick(filled, key=filled.get)


# --- what size buys ---------------------------------------------------------------------

def param_count(config: RunConfig, spec) -> int:
    return models.count_params(models.build_on_meta(config.model, spec))


def scale_ladder(base: RunConfig, sizes: int = SCALE_SIZES, span: float = SCALE_SPAN) -> list[RunConfig]:
    """`base`'s family at `sizes` sizes (its size setting times SCALE_FACTORS), the run of consecutive
    sizes whose parameter counts span closest to `span` times, smallest first."""
    field = models.family(base.arch).scale
    if not field:
        raise ConfigError("model.arch", "scale_family", families=", ".join(sorted(models.scalable())))
    spec = tasks.load(base.task).spec
    size = getattr(base.model, field)
    unit = max(size) if isinstance(size, list) else size
    ladder, seen = [], set()
    for factor in SCALE_FACTORS:
        width = max(2, int(round(unit * factor / 2)) * 2)   # even: transformer heads divide it more often
        if width in seen:
            continue
        try:
            config = _sized(base, field, width)
        except ConfigError:   # too small or too large for this family's rules
            continue
        seen.add(width)
        ladder.append((param_count(config, spec), config))
    windows = [ladder[i:i + sizes] for i in range(max(1, len(ladder) - sizes + 1))]
    best = min(windows, key=lambda w: abs(math.log(w[-1][0] / max(w[0][0], 1)) - math.log(span)))
    return [config for _, config in best]


def _sized(base: RunConfig, field: str, width: int) -> RunConfig:
    data = with_setting(base.to_dict(), f"model.{field}", width)
    if field == "d_model":   # the block's dense network and the heads follow the width
        data["model"]["ff_width"] = 2 * width
        data["model"]["heads"] = next(h for h in (4, 2, 1) if width % h == 0)
    config = RunConfig.from_dict(data)
    config.group = {**base.group, "axes": [f"model.{field}"]} if base.group else {}
    return config


def epoch_seconds(metrics: Mapping) -> float | None:
    """Training seconds per epoch: what a size costs under an epoch budget and under a time budget alike."""
    seconds, epochs = metrics.get("seconds"), metrics.get("epochs")
    return seconds / epochs if seconds is not None and epochs else None


def scale_table(runs: Sequence, metric: str) -> pd.DataFrame:
    """One row per run, smallest first: run_id, params, metric (its final test `metric`), seconds (training
    seconds per epoch), status."""
    rows = [{"run_id": r.id, "params": r.params, "metric": r.metrics.get(metric),
             "seconds": epoch_seconds(r.metrics), "status": r.status} for r in runs]
    table = pd.DataFrame(rows, columns=["run_id", "params", "metric", "seconds", "status"])
    for col in ("params", "metric", "seconds"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    return table.sort_values("params", na_position="last").reset_index(drop=True)


def where_it_stopped(table: pd.DataFrame, metric: str, paying: float = PAYING) -> dict | None:
    """Where adding parameters stopped paying: {"code": ..., **numbers} for the sentence `scale.<code>`,
    or None until every size has its result. Codes: still_paying (the biggest step still gained),
    stopped (from `params` on, each step gained under `paying`, while time grew `slower` times), worse
    (the biggest model did worse than a smaller one). `slower`: how many times the seconds grew."""
    done = table.dropna(subset=["params", "metric"])
    if len(done) < 2 or len(done) < len(table):
        return None
    sign = 1 if higher_is_better(metric) else -1
    values, params, seconds = (done[c].tolist() for c in ("metric", "params", "seconds"))
    best = max(range(len(values)), key=lambda i: sign * values[i])
    gains = [sign * (b - a) for a, b in zip(values, values[1:])]
    if gains[-1] >= paying:
        return {"code": "still_paying", "gain": gains[-1], "params": int(params[-1])}
    knee = len(gains)
    while knee > 0 and gains[knee - 1] < paying:
        knee -= 1
    slower = seconds[-1] / seconds[knee] if seconds[knee] else math.nan
    code = "worse" if best < len(values) - 1 and sign * (values[best] - values[-1]) >= paying else "stopped"
    return {"code": code, "params": int(params[knee]), "value": values[knee], "best_params": int(params[best]),
            "biggest": int(params[-1]), "slower": slower}
