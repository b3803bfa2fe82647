"""A host's hidden test file: a labelled CSV with the columns of a table task, kept where no participant reaches it.

    table_columns("ds-3f2a9c0d1e4b")           # the columns a hidden file of that task must have
    kept = add(raw, "exam.csv", "iris")         # checked against them, encoded, stored; kept.id
    x, y = rows_of(kept.id)                     # its rows as the task's columns hold them, in the file's units

It is kept as blobs like an upload (modelkit.data.uploads), but under hidden/<id>/ rather than dataset/<id>/:
uploads.list_datasets (every picker, the CLI's `datasets`) and uploads.get (every `ds-...` task name a run,
an export or a page resolves) never find it, so no participant lists it, trains on it or downloads it. Only
the worker (scoring a finished run, modelkit.room.hidden) and the host read it.

Its columns are the task's: an uploaded table's input columns and target as the file had them; a built-in
table's feature names and TARGET holding its class names. Each is read the way modelkit.data.rows reads a
row a person types (a text column by its value), so the model sees a hidden row as it sees its own rows.
"""
from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import asdict, dataclass

import numpy as np

from modelkit.data import blobs, rows, tasks, uploads
from modelkit.fields import ConfigError, TaskConfig

STORED = "hidden/"          # its blobs' names: hidden/<id>/data.npz, then meta.json
TARGET = "target"           # a built-in table's target column in a hidden file: its class names


@dataclass(frozen=True)
class Columns:
    """What a table task's rows are made of."""
    inputs: list              # modelkit.data.rows' input columns, in the data's order
    target: str
    kind: str                 # classification | regression
    classes: tuple = ()       # classification: the class names, in the order of the class ids

    @property
    def names(self) -> list[str]:
        return [c["name"] for c in self.inputs] + [self.target]


@dataclass
class HiddenFile:
    id: str                   # content hash of the file and its task
    name: str                 # the file's name, for the host
    task: str                 # the task whose columns it has
    rows: int
    created: float = 0.0


def check_task(task: str):
    """Refuse a task whose data is not a table: its rows have no columns for a file to match."""
    if not tasks.task_info(task).table:
        raise ConfigError("challenge.hidden", "hidden_file_task")


def table_columns(task: str) -> Columns:
    """The columns a hidden file of `task` must have; ConfigError for a task that is not a table."""
    check_task(task)
    ds = uploads.from_task(task)
    if ds is not None:
        inputs = ds.inputs or [{"name": str(f)} for f in ds.features]   # a table stored before inputs were kept
        return Columns(inputs, ds.target, ds.task_kind, tuple(ds.class_names))
    data = tasks.load(TaskConfig(name=task))
    return Columns([{"name": n} for n in tasks.feature_names(data)], TARGET, data.spec.kind, data.spec.class_names)


def refuse(code: str, file: str, **params):
    raise ConfigError("challenge.hidden_file", code, file=file[:80], **params)


def encode(frame, columns: Columns, file: str) -> tuple[np.ndarray, np.ndarray]:
    """(x float32 in the file's own units, y) of a hidden file read as a table; refused naming what does not
    match the task's columns, an empty cell, a value a column cannot hold or a class the task does not have."""
    import pandas as pd

    wanted, got = columns.names, [str(c) for c in frame.columns]
    if sorted(got) != sorted(wanted):
        missing, extra = [c for c in wanted if c not in got], [c for c in got if c not in wanted]
        refuse("hidden_file_columns", file, columns=", ".join(wanted)[:300],
               missing=", ".join(missing)[:200] or "–", extra=", ".join(extra)[:200] or "–")
    frame = frame[wanted]
    for name in wanted:
        if frame[name].isna().any():
            refuse("hidden_file_gap", file, column=name[:40], row=int(np.argmax(frame[name].isna().to_numpy())) + 2)
    for column in columns.inputs:
        cells = frame[column["name"]]
        if column.get("values"):
            bad = cells[~cells.astype(str).isin(column["values"])]
            if len(bad):
                refuse("hidden_file_value", file, column=column["name"][:40], value=str(bad.iloc[0])[:40],
                       choices=", ".join(column["values"])[:200])
        else:   # a number float32 holds: not text, not infinite, not beyond its range
            with np.errstate(over="ignore"):
                numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64).astype(np.float32)
            bad = ~np.isfinite(numbers)
            if bad.any():
                refuse("hidden_file_number", file, column=column["name"][:40],
                       value=str(cells.iloc[int(np.argmax(bad))])[:40])
    x = np.asarray(rows.to_numbers(columns.inputs, frame[[c["name"] for c in columns.inputs]].values.tolist()),
                   dtype=np.float32)
    target = frame[columns.target]
    if columns.kind == "regression":
        if not pd.api.types.is_numeric_dtype(target):
            refuse("hidden_file_number", file, column=columns.target[:40], value=str(target.iloc[0])[:40])
        return x, target.to_numpy(dtype=np.float32)[:, None]
    index = {name: i for i, name in enumerate(columns.classes)}
    unknown = target[~target.astype(str).isin(index)]
    if len(unknown):
        refuse("hidden_file_class", file, value=str(unknown.iloc[0])[:40], choices=", ".join(columns.classes)[:200])
    return x, target.astype(str).map(index).to_numpy(dtype=np.int64)


def add(raw: bytes, file: str, task: str) -> HiddenFile:
    """Check a labelled CSV against `task`'s columns and keep it (once per content and task)."""
    columns = table_columns(task)
    x, y = encode(uploads.read_table(raw, file), columns, file)
    seen = int(seen_rows(x, task).sum())
    if seen:
        refuse("hidden_file_seen", file, n=seen)
    kept = HiddenFile(hashlib.sha256(raw + b"\x00" + task.encode("utf-8")).hexdigest()[:12], file[:200], task,
                      len(x), time.time())
    if get(kept.id) is not None:
        return get(kept.id)
    buffer = io.BytesIO()
    np.savez(buffer, x=x, y=y)
    blobs.put(_name(kept.id, "data.npz"), buffer.getvalue())
    blobs.put(_name(kept.id, "meta.json"), json.dumps(asdict(kept), ensure_ascii=False).encode("utf-8"))   # last
    return kept


def seen_rows(x: np.ndarray, task: str) -> np.ndarray:
    """Which rows of `x` (the file's own units) are rows of the task's own data, which participants train on:
    an uploaded table's exactly; a built-in table's within a ten-thousandth of a column's spread (its rows are
    kept standardised, and come back in their own units with a rounding error)."""
    ds = uploads.from_task(task)
    if ds is not None:
        own = {row.tobytes() for row in uploads.arrays(ds)["x"].astype(np.float32)}
        return np.array([row.tobytes() in own for row in x], dtype=bool)
    import torch

    data = tasks.load(TaskConfig(name=task))
    own = tasks.in_own_units(data, torch.cat([data.x_train, data.x_val, data.x_test]))
    spread = data.extra["feature_std"].flatten()
    gaps = torch.cdist(torch.from_numpy(x) / spread, own / spread, p=float("inf"))   # (hidden rows, own rows)
    return (gaps.min(1).values < 1e-4).numpy()


def _name(file_id: str, part: str) -> str:
    return f"{STORED}{file_id}/{part}"


def get(file_id: str) -> HiddenFile | None:
    if not isinstance(file_id, str) or not file_id.isalnum():
        return None
    raw = blobs.read(_name(file_id, "meta.json"))
    return None if raw is None else HiddenFile(**json.loads(raw.decode("utf-8")))


def rows_of(file_id: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a kept hidden file: x in the file's own units, as the task's columns hold them."""
    with np.load(blobs.path(_name(file_id, "data.npz")), allow_pickle=False) as f:
        return f["x"], f["y"]
