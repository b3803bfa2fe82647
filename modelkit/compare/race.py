"""Comparing runs: one colour and one label per run, the leaderboard, its winner, the paper's figures.

Pure functions over the store's `Run` records and point frames (see store.points),
so the Compare page, the CLI and tests share them. Nothing here imports Streamlit.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from modelkit.plots.figures import PALETTE

# MNIST-1D paper (Greydanus, 2020), table 1: test accuracy of each model family.
# "linear" is the paper's logistic regression.
PAPER_TASK = "mnist1d"
PAPER_ACCURACY = {"linear": 0.32, "mlp": 0.68, "cnn": 0.94, "gru": 0.91}
PAPER_RACE_ARCHS = ("linear", "mlp", "cnn", "gru", "transformer")
PAPER_RACE_SECONDS = 45.0   # each; two workers finish the five in about 2.5 minutes

MIN_RUNS, MAX_RUNS = 2, 6   # architectures one comparison launches
LOWER_IS_BETTER = frozenset({"loss", "val_loss", "test_loss", "val_perplexity", "test_perplexity",
                             "test_baseline_perplexity", "test_mse", "test_mae"})
SETTING_SECTIONS = ("task", "model", "train")
LABEL_SETTINGS = 3          # at most this many differing settings in a run's label


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def paper_accuracy(task: str, arch: str) -> float | None:
    """The MNIST-1D paper's test accuracy for `arch`, or None (another task, or a family it did not report)."""
    return PAPER_ACCURACY.get(arch) if task == PAPER_TASK else None


def run_colors(run_ids: Sequence[str]) -> dict[str, str]:
    """One colour per run, by its place in the comparison, the same in every chart and table."""
    return {run_id: PALETTE[i % len(PALETTE)] for i, run_id in enumerate(run_ids)}


def settings(run) -> dict[str, object]:
    """A run's settings by config path ("train.optimizer": "adam"), its task and architecture aside."""
    return {f"{section}.{field}": value for section in SETTING_SECTIONS
            for field, value in (run.config.get(section) or {}).items()
            if (section, field) not in (("task", "name"), ("model", "arch"))}


def differing_settings(runs: Sequence) -> list[str]:
    """The config paths whose value is not the same in all `runs`, in config order."""
    flat = [settings(r) for r in runs]
    paths = dict.fromkeys(p for f in flat for p in f)
    return [p for p in paths if len({json.dumps(f.get(p), sort_keys=True) for f in flat}) > 1]


def label_settings(runs: Sequence) -> list[str]:
    """The settings that tell apart runs of one architecture: what their labels name and the leaderboard shows."""
    by_arch: dict[str, list] = {}
    for run in runs:
        by_arch.setdefault(run.arch, []).append(run)
    paths = [differing_settings(group) for group in by_arch.values() if len(group) > 1]
    return list(dict.fromkeys(p for group in paths for p in group))


def run_labels(runs: Sequence, title: Callable[[str], str] = str,
               setting: Callable[[str, object], str] | None = None) -> dict[str, str]:
    """Each run's name in legends and tables: its architecture's title; runs that share an architecture add
    what differs between them (`setting(path, value)` words one setting), or a number where nothing does."""
    setting = setting or (lambda path, value: f"{path.rsplit('.', 1)[-1]} {value}")
    labels = {}
    for arch in dict.fromkeys(r.arch for r in runs):
        group = [r for r in runs if r.arch == arch]
        differs = differing_settings(group)[:LABEL_SETTINGS] if len(group) > 1 else []
        named = {r.id: " · ".join([title(arch), *(setting(p, settings(r).get(p)) for p in differs)]) for r in group}
        for i, run in enumerate(group, 1):
            repeated = list(named.values()).count(named[run.id]) > 1
            labels[run.id] = f"{named[run.id]} #{i}" if repeated else named[run.id]
    return {r.id: labels[r.id] for r in runs}


def _series(points: pd.DataFrame | None, name: str) -> pd.Series:
    if points is None or points.empty:
        return pd.Series(dtype=float)
    return points.loc[points["name"] == name, "value"].dropna()


def _seconds(run, points) -> float | None:
    if "seconds" in run.metrics:
        return float(run.metrics["seconds"])
    if points is not None and len(points):
        return float(points["seconds"].max())
    return None


def leaderboard(runs: Sequence, points: Mapping[str, pd.DataFrame], val_metric: str,
                test_metrics: Sequence[str]) -> pd.DataFrame:
    """One row per run, in comparison order: run_id, arch, params, best_val, final_val, the test metrics,
    seconds, samples_per_s, device, status, paper (the paper's accuracy, NaN where it has none), winner."""
    better = max if higher_is_better(val_metric) else min
    rows = []
    for run in runs:
        frame = points.get(run.id)
        val = _series(frame, val_metric)
        speed = run.metrics.get("samples_per_s")
        if speed is None and len(_series(frame, "samples_per_s")):
            speed = float(_series(frame, "samples_per_s").iloc[-1])
        rows.append({"run_id": run.id, "arch": run.arch, "params": run.params,
                     "best_val": better(val) if len(val) else None,
                     "final_val": float(val.iloc[-1]) if len(val) else None,
                     **{m: run.metrics.get(m) for m in test_metrics},
                     "seconds": _seconds(run, frame), "samples_per_s": speed, "device": run.device,
                     "status": run.status, "paper": paper_accuracy(run.task, run.arch)})
    columns = ["run_id", "arch", "params", "best_val", "final_val", *test_metrics, "seconds", "samples_per_s",
               "device", "status", "paper"]
    table = pd.DataFrame(rows, columns=columns)
    for col in ("best_val", "final_val", *test_metrics, "seconds", "samples_per_s", "paper"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    table["params"] = table["params"].astype("Int64")
    table["winner"] = table["run_id"] == winner(table, test_metrics[0] if test_metrics else "final_val")
    return table


def winner(table: pd.DataFrame, metric: str) -> str | None:
    """The run with the best `metric` among those that finished training (completed or stopped), once
    none is queued or running any more: a lone early finisher is not crowned while the others still train."""
    if table["status"].isin(("queued", "running")).any():
        return None
    done = table[table["status"].isin(("completed", "stopped")) & table[metric].notna()]
    if done.empty:
        return None
    best = done[metric].idxmax() if higher_is_better(metric) else done[metric].idxmin()
    return str(done.loc[best, "run_id"])


HISTORY_METRICS = ("test_accuracy", "test_f1", "test_r2", "test_perplexity")


def history_table(runs: Sequence) -> pd.DataFrame:
    """Every run as one row, newest first as given: id, name, owner, task, arch, status, the final test
    metrics (NaN where a run's kind has none), params, seconds, node (the cluster node that trained it, None
    when local), created (local time, naive)."""
    rows = [{"id": r.id, "name": r.name, "owner": r.owner, "task": r.task, "arch": r.arch, "status": r.status,
             **{m: r.metrics.get(m) for m in HISTORY_METRICS}, "params": r.params,
             "seconds": r.metrics.get("seconds", (r.finished - r.started).total_seconds()
                                      if r.started and r.finished else None), "node": r.node,
             "created": r.created.astimezone().replace(tzinfo=None) if r.created else None} for r in runs]
    table = pd.DataFrame(rows, columns=["id", "name", "owner", "task", "arch", "status", *HISTORY_METRICS,
                                        "params", "seconds", "node", "created"])
    for col in (*HISTORY_METRICS, "seconds"):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    table["params"] = table["params"].astype("Int64")
    table["created"] = pd.to_datetime(table["created"])
    return table
