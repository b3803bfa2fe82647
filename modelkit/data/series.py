"""Uploaded time series: a CSV whose rows are time steps becomes a forecasting task.

    frame = uploads.read_table(raw, "co2.csv", min_columns=1)
    shape = read_series(frame, "co2.csv")        # values at regular steps, gaps filled and counted
    ds = add_series(raw, "co2.csv", targets=["co2"])        # stored once; ds.task = "ds-3f2a9c0d1e4b"
    arrays = forecast.windows(ds, window=48, horizon=12, val_fraction=0.15, test_fraction=0.2)

A series has a date/time column (its rows are put in time order, missing steps become gaps and
timestamps off a regular grid are resampled onto one), or its rows are the steps in order. Gaps
are filled by linear interpolation and counted. Cutting it into windows split by time, the naive
baselines and the results are modelkit.data.forecast's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelkit.data import uploads
from modelkit.data.uploads import refuse

STEP_TOLERANCE = 0.1      # steps within 10% of the usual one are regular (months of 28 to 31 days)


@dataclass
class Series:
    """A table read as a series: numeric columns at regular steps, with what reading it changed."""
    values: object            # DataFrame of the numeric columns, one row per step, no gaps left
    time_column: str = ""     # "" when the rows are the steps
    step: str = ""            # the usual step in words (1 days, 2 hours, ...), "" without a time column
    filled: int = 0           # cells filled by interpolation (empty cells and missing steps)
    missing_steps: int = 0    # whole rows the timestamps left out
    resampled: bool = False   # the timestamps were irregular: values were read off at regular steps
    start: str = ""           # the first timestamp, for the axis
    step_ns: int = 0


def time_column(frame) -> str | None:
    """The column that holds dates or times: a text column most of whose values parse as dates."""
    import pandas as pd

    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        sample = col.dropna().astype(str).head(200)
        if sample.empty or not sample.str.contains(r"\d", regex=True).all():
            continue
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
        if parsed.notna().mean() >= 0.9:
            return str(name)
    return None


def numeric_columns(frame) -> list[str]:
    import pandas as pd

    return [str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c]) and frame[c].notna().any()]


def looks_like_series(frame) -> bool:
    """A date/time column beside numbers, or only numbers (rows in order): the upload offers a forecast."""
    numbers = numeric_columns(frame)
    if not numbers:
        return False
    return time_column(frame) is not None or len(numbers) == frame.shape[1]


def guess_series(frame) -> bool:
    """Whether a forecast is the likelier wish: the table has a date/time column."""
    return bool(numeric_columns(frame)) and time_column(frame) is not None


def read_series(frame, file: str, columns: list[str] | None = None) -> Series:
    """The numeric `columns` (all, by default) at regular steps, gaps interpolated; plain refusals."""
    import pandas as pd

    columns = columns or numeric_columns(frame)
    if not columns:
        refuse("data_series_no_numbers", file)
    for c in columns:
        if c not in numeric_columns(frame):
            refuse("data_series_not_number", file, column=str(c)[:40])
    tcol = time_column(frame)
    values = frame[columns].astype("float64").replace([np.inf, -np.inf], np.nan)   # infinity is a gap too
    out = Series(values, time_column=tcol or "")
    if tcol is not None:
        times = pd.to_datetime(frame[tcol], errors="coerce", format="mixed")
        keep = times.notna().to_numpy()
        values, times = values[keep], times[keep]
        out = _regular(values.reset_index(drop=True), times.reset_index(drop=True), file, tcol)
    gaps = int(out.values.isna().sum().sum())
    out.values = out.values.interpolate(method="linear", limit_direction="both")
    if out.values.isna().any().any():
        refuse("data_series_empty_column", file, column=str(out.values.columns[out.values.isna().any()][0])[:40])
    out.filled = gaps
    if len(out.values) < 10:
        refuse("data_few_rows", file, n=10)
    return out


def _regular(values, times, file: str, tcol: str) -> Series:
    """Rows in time order on a regular grid: missing steps become gaps, irregular stamps are resampled."""
    import pandas as pd

    order = np.argsort(times.to_numpy(), kind="stable")
    values, times = values.iloc[order].reset_index(drop=True), times.iloc[order].reset_index(drop=True)
    ns = times.to_numpy().astype("datetime64[ns]").astype(np.int64)
    diffs = np.diff(ns)
    if len(diffs) == 0 or (diffs == 0).any():
        when = str(times[int(np.argmax(diffs == 0))]) if len(diffs) else ""
        refuse("data_series_same_time", file, column=tcol[:40], when=when[:40])
    step = float(np.median(diffs))
    ratio = diffs / step
    whole = np.maximum(np.round(ratio), 1)
    limit = 2 * len(values)                      # at most as many invented steps as real ones
    out = Series(values, time_column=tcol, step=_step_words(step), start=str(times[0]), step_ns=int(step))
    if np.all(np.abs(ratio - 1) <= STEP_TOLERANCE):
        return out                               # regular, or calendar months
    if np.all(np.abs(ratio - whole) <= STEP_TOLERANCE * whole):
        positions = np.concatenate([[0], np.cumsum(whole)]).astype(np.int64)
        if positions[-1] + 1 > limit:
            refuse("data_series_sparse", file, column=tcol[:40], step=out.step)
        grid = pd.DataFrame(np.nan, index=range(positions[-1] + 1), columns=values.columns)
        grid.iloc[positions] = values.to_numpy()
        out.values, out.missing_steps = grid, int(positions[-1] + 1 - len(values))
        return out
    step = _whole_step(step)
    out.step, out.step_ns = _step_words(step), int(step)
    n_grid = int((ns[-1] - ns[0]) // step) + 1
    if n_grid > limit:
        refuse("data_series_sparse", file, column=tcol[:40], step=out.step)
    grid = ns[0] + step * np.arange(n_grid)
    cols = {}
    for c in values.columns:
        known = values[c].notna().to_numpy()
        cols[c] = np.interp(grid, ns[known], values[c].to_numpy()[known]) if known.any() else np.nan
    out.values, out.resampled = pd.DataFrame(cols), True
    return out


def _whole_step(step_ns: float) -> float:
    """The usual step of jittered timestamps, rounded to whole days, hours, minutes or seconds when near one."""
    for size in (86400e9, 3600e9, 60e9, 1e9):
        n = round(step_ns / size)
        if n >= 1 and abs(step_ns / size - n) <= 0.05 * n:
            return n * size
    return step_ns


STEP_UNITS = (("years", 365.25 * 86400), ("months", 30.44 * 86400), ("weeks", 7 * 86400), ("days", 86400),
              ("hours", 3600), ("minutes", 60), ("seconds", 1))


def step_parts(step_ns: float) -> tuple[str, str]:
    """A step as a number and its unit (the pages translate the unit): ("1", "days"), ("30", "minutes")."""
    seconds = step_ns / 1e9
    for unit, size in STEP_UNITS:
        if seconds >= size * 0.9:
            return f"{seconds / size:.3g}", unit
    return f"{seconds:.3g}", "seconds"


def _step_words(step_ns: float) -> str:
    """A step in English, for the CLI and the stored dataset: 1 days, 30 minutes."""
    return " ".join(step_parts(step_ns))


# --- storing ---------------------------------------------------------------------------

def add_series(raw: bytes, file: str, targets: list[str], inputs: list[str] | None = None,
               owner: str = "") -> uploads.Dataset:
    """Store the series of `targets` (what to forecast) and `inputs` (what the model sees besides the
    targets' own past), read as `read_series` reads it. The same file and columns are stored once."""
    frame = uploads.read_table(raw, file, min_columns=1)
    targets = [str(t) for t in targets]
    inputs = list(dict.fromkeys([*targets, *(str(c) for c in inputs or ())]))   # a forecast starts from now
    if not targets:
        refuse("data_series_no_numbers", file)
    for name in (*targets, *inputs):
        if name not in frame.columns:
            refuse("data_no_target", file, target=name[:40])
    columns = list(dict.fromkeys([*inputs, *targets]))
    found = read_series(frame, file, columns)
    info = {"targets": targets, "inputs": inputs, "time_column": found.time_column, "step": found.step,
            "missing_steps": found.missing_steps, "resampled": found.resampled, "start": found.start,
            "step_ns": found.step_ns}
    ds = uploads.Dataset(uploads._hash(raw, "series", *targets, "|", *inputs), file, "series", "regression",
                         owner, len(found.values), len(columns), [], columns, ",".join(targets), found.filled,
                         len(raw), series=info)
    return uploads._save(ds, {"values": found.values.to_numpy(dtype=np.float32)})
