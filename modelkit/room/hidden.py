"""A challenge's hidden test: rows that no run of the challenge trains on, validates on or is tested on,
scored by the worker as each run finishes (modelkit.execution.worker.keep_hidden_score). Participants see their score, never the rows.

    create_challenge(store, ..., hidden="held_back")   # modelkit.room.challenges: locks the data (below)
    hidden_board(store, challenge)                      # its leaderboard on the hidden rows
    public_and_hidden(store, challenge)                 # the public and the hidden ranking, side by side

A built-in task's held-back split: the challenge locks the settings its task makes its rows from (so
every run has the same rows) and task.holdout, which keeps HOLDOUT of the rows out of every split (modelkit.data.tasks
.hold_back, by a seed of its own). Those rows are the hidden test.
"""
from __future__ import annotations

import dataclasses
import json

import pandas as pd

from modelkit.config import make_config
from modelkit.data import tasks
from modelkit.fields import ConfigError
from modelkit.room.leaderboard import board_metric, leaderboard
from modelkit.store import Challenge, Store

HELD_BACK = "held_back"
KINDS = (HELD_BACK,)
HOLDOUT = 0.2                 # of a task's rows, kept for the hidden test


def check_hidden(task: str, hidden: str | None):
    """Refuse a hidden test the task cannot keep: an unknown kind, or a task whose rows are not split
    (a text's windows, a series' time steps)."""
    if hidden is None:
        return
    if hidden not in KINDS:
        raise ConfigError("challenge.hidden", "hidden_kind", choices=", ".join(KINDS))
    info = tasks.task_info(task)
    if info.input_kind == "tokens" or info.try_view == "series":
        raise ConfigError("challenge.hidden", "hidden_task")


def hidden_locks(task: str, arch: str) -> list[str]:
    """The locked settings of a held-back challenge: the settings its task makes its rows from as the
    defaults have them (a generated set's size, noise and seed; a fixed set's rows are its own, whatever
    the seed that splits them), and the hidden rows held back."""
    data = make_config(task, arch).to_dict()["task"]
    params = tasks.task_info(task).params
    makes_rows = (*params, "seed") if "n_samples" in params else params
    return [f"task.{k}={json.dumps(data[k])}" for k in makes_rows if k != "text"] + [f"task.holdout={HOLDOUT}"]


def hidden_rows(config) -> tuple:
    """(x, y) of a run's hidden rows as its model sees inputs; ConfigError when its data holds none back."""
    data = tasks.load(config.task)
    if "hidden" not in data.extra:
        raise ConfigError("task.holdout", "hidden_none")
    return data.extra["hidden"]


def hidden_scores(store: Store, challenge: Challenge) -> dict[str, float]:
    """run id -> hidden score of each run of the challenge that has one (the worker keeps it as the run
    finishes, modelkit.execution.worker.keep_hidden_score)."""
    return {run_id: value for run_id, value in store.hidden_scores(challenge.id).items() if value is not None}


def hidden_board(store: Store, challenge: Challenge) -> pd.DataFrame:
    """The challenge's leaderboard (modelkit.room.leaderboard's columns) ranked by the hidden scores."""
    runs = store.list_runs(challenge=challenge.id)
    scores, metric = hidden_scores(store, challenge), board_metric(challenge.task)
    scored = [dataclasses.replace(r, metrics={**r.metrics, metric: scores[r.id]}) for r in runs if r.id in scores]
    return leaderboard(scored, challenge.task)


def public_and_hidden(store: Store, challenge: Challenge) -> pd.DataFrame:
    """One row per participant: rank and score on the public test beside rank and score on the hidden one."""
    public = leaderboard(store.list_runs(challenge=challenge.id), challenge.task)
    hidden = hidden_board(store, challenge)
    both = public[["participant", "rank", "score"]].merge(
        hidden[["participant", "rank", "score"]], on="participant", how="outer", suffixes=("_public", "_hidden"))
    for column in ("rank_public", "rank_hidden"):
        both[column] = both[column].astype("Int64")
    return both.sort_values(["rank_hidden", "rank_public"], kind="stable", na_position="last").reset_index(drop=True)
