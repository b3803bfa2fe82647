"""A challenge's hidden test: rows that no run of the challenge trains on, validates on or is tested on,
scored by the worker as each run finishes (modelkit.execution.worker.keep_hidden_score). Participants see their score, never the rows.

    create_challenge(store, ..., hidden="held_back")   # modelkit.room.challenges: locks the data (below)
    create_challenge(store, ..., hidden="upload", hidden_file=(raw, "exam.csv"))   # the host's own rows
    hidden_board(store, challenge)                      # its leaderboard on the hidden rows
    public_and_hidden(store, challenge)                 # the public and the hidden ranking, side by side

Two kinds, each a registry entry below:
- A built-in task's held-back split (HELD_BACK): the challenge locks the settings its task makes its rows from
  (so every run has the same rows) and task.holdout, which keeps HOLDOUT of the rows out of every split
  (modelkit.data.tasks.hold_back, by a seed of its own). Those rows are the hidden test.
- A file only the host sees (UPLOAD): a labelled CSV with the columns of the challenge's table (an uploaded
  one's, or a built-in table's), kept out of every participant's reach (modelkit.data.hidden_file). Runs
  train as usual; each is scored on the file's rows, scaled as its own rows were.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Callable

import pandas as pd
import torch

from modelkit.config import make_config
from modelkit.data import hidden_file, tasks
from modelkit.fields import ConfigError
from modelkit.room.leaderboard import board_metric, leaderboard
from modelkit.store import Challenge, Store

HELD_BACK = "held_back"
UPLOAD = "upload"
HOLDOUT = 0.2                 # of a task's rows, kept for the hidden test


def _check_split(task: str):
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


def _held_back_rows(config, challenge) -> tuple:
    data = tasks.load(config.task)
    if "hidden" not in data.extra:
        raise ConfigError("task.holdout", "hidden_none")
    return data.extra["hidden"]


def _file_rows(config, challenge) -> tuple:
    """The host's file's rows as the run's model sees its own: scaled with its training rows' mean and spread."""
    x, y = hidden_file.rows_of(challenge.hidden_file)
    data = tasks.load(config.task)
    x = (torch.from_numpy(x) - data.extra["feature_mean"]) / data.extra["feature_std"]
    return x, torch.from_numpy(y)


@dataclass(frozen=True)
class Kind:
    """What a kind of hidden test is: which tasks can keep it, what it locks, where its rows come from."""
    check: Callable[[str], None]            # task -> None, or ConfigError for a task that cannot keep it
    locks: Callable[[str, str], list]       # (task, first arch) -> the locked lines it puts first
    rows: Callable                          # (run config, challenge) -> (x, y) as the run's model sees inputs
    needs_file: bool = False                # the host sends a file with it


KINDS = {HELD_BACK: Kind(_check_split, hidden_locks, _held_back_rows),
         UPLOAD: Kind(hidden_file.check_task, lambda task, arch: [], _file_rows, needs_file=True)}


def check_hidden(task: str, hidden: str | None, file: tuple | None = None):
    """Refuse a hidden test the task cannot keep: an unknown kind, a task whose rows are not split (a text's
    windows, a series' time steps) for a held-back split, one that is not a table for a file, a file without
    its kind or a file kind without its file."""
    if hidden is None:
        if file is not None:
            raise ConfigError("challenge.hidden", "hidden_kind", choices=UPLOAD)
        return
    if hidden not in KINDS:
        raise ConfigError("challenge.hidden", "hidden_kind", choices=", ".join(KINDS))
    KINDS[hidden].check(task)
    if KINDS[hidden].needs_file != (file is not None):
        raise ConfigError("challenge.hidden_file", "hidden_file_none" if file is None else "hidden_kind",
                          choices=UPLOAD)


def keep_file(task: str, file: tuple) -> str:
    """Check the host's (bytes, file name) against the task's columns and keep it; its id. ConfigError in
    plain words (modelkit.data.hidden_file) for a file that does not match."""
    raw, name = file
    return hidden_file.add(raw, name, task).id


def hidden_rows(config, challenge: Challenge | None = None) -> tuple:
    """(x, y) of a run's hidden rows as its model sees inputs: its challenge's file's, else those its data
    holds back (ConfigError when it holds none back)."""
    kind = challenge.hidden if challenge is not None and challenge.hidden else HELD_BACK
    return KINDS[kind].rows(config, challenge)


def hidden_data(challenge: Challenge, by: str | None) -> tuple:
    """The host's hidden file's rows in its own units, for the host alone (`by` None); ConfigError for a
    participant, and for a challenge without a file."""
    if by is not None:
        raise ConfigError("challenge.hidden_file", "host_only")
    if challenge.hidden != UPLOAD:
        raise ConfigError("challenge.hidden_file", "hidden_file_none")
    return hidden_file.rows_of(challenge.hidden_file)


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
