"""Every chart in words: a one-sentence summary that follows the data, and its numbers as a table.

A screen reader cannot read a Plotly chart, and a magnifier user sees a corner of it; beside each figure
builder of modelkit.plots there is a `describe_*` (the sentence, in the reader's language) and a
`*_table` (the numbers). They take the data the page already has, so they cost a pass over it.
No Streamlit here; words come from modelkit.text.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from modelkit.text import translate

FLAT = 0.02   # a change under 2 % of the curve's range counts as levelling off


def _duration(lang: str, seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return translate(lang, "time.seconds", s=seconds)
    return translate(lang, "time.minutes", m=seconds // 60, s=f"{seconds % 60:02d}")


def _number(value: float, percent: bool) -> str:
    return f"{value:.0%}" if percent else f"{value:.3g}"


def trend(values: Sequence[float], tail: int = 5) -> str:
    """Where the last few values head: 'rising', 'falling' or 'flat' (relative to the whole range)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return "flat"
    spread = float(np.nanmax(values) - np.nanmin(values)) or 1.0
    recent = values[-min(tail, len(values)):]
    change = float(recent[-1] - recent[0])
    if abs(change) <= FLAT * spread:
        return "flat"
    return "rising" if change > 0 else "falling"


def describe_curve(points: pd.DataFrame, name: str, lang: str, *, what: str, percent: bool = False,
                   active: bool = False) -> str:
    """'Validation accuracy rose from 40% to 97% in 15 s; still rising.' for the point name `name`."""
    rows = points[points["name"] == name].sort_values("step") if points is not None and len(points) else None
    if rows is None or rows.empty:
        return translate(lang, "words.curve.none", what=what)
    values = rows["value"].to_numpy(float)
    first, last = values[0], values[-1]
    seconds = float(rows["seconds"].iloc[-1] - rows["seconds"].iloc[0]) if "seconds" in rows else 0.0
    if len(values) == 1:
        return translate(lang, "words.curve.one", what=what, value=_number(last, percent), step=int(rows["step"].iloc[0]))
    overall = trend([first, last])
    now = trend(values)
    if active:
        tail = translate(lang, f"words.now.{now}")
    else:
        tail = translate(lang, "words.ended_at", step=int(rows["step"].iloc[-1]))
    return translate(lang, f"words.curve.{overall}", what=what, first=_number(first, percent),
                     last=_number(last, percent), time=_duration(lang, seconds), tail=tail,
                     low=_number(float(np.min(values)), percent), high=_number(float(np.max(values)), percent))


def curves_table(points: pd.DataFrame, names: Sequence[str], columns: dict[str, str],
                 max_rows: int = 200) -> pd.DataFrame:
    """One row per step, one column per point name in `names` (headed by `columns[name]`); a long run
    keeps every k-th step (and the last), at most about `max_rows` rows, like the chart's own thinning."""
    if points is None or points.empty:
        return pd.DataFrame(columns=["step", *[columns.get(n, n) for n in names]])
    rows = points[points["name"].isin(list(names))]
    table = rows.pivot_table(index="step", columns="name", values="value", aggfunc="last")
    table = table.reindex(columns=[n for n in names if n in table.columns]).reset_index()
    if len(table) > max_rows:
        keep = sorted({*range(0, len(table), -(-len(table) // max_rows)), len(table) - 1})
        table = table.iloc[keep].reset_index(drop=True)
    return table.rename(columns={"step": columns.get("step", "step"), **columns})


def describe_confusion(matrix, class_names: Sequence[str], lang: str) -> str:
    """'9 of 10 test examples are right (90%); the most common mistake: 3 taken for 8 (4 times).'"""
    m = np.asarray(matrix, dtype=int)
    total, right = int(m.sum()), int(np.trace(m))
    if total == 0:
        return translate(lang, "words.confusion.empty")
    text = translate(lang, "words.confusion.right", right=right, total=total, share=f"{right / total:.0%}")
    off = m.copy()
    np.fill_diagonal(off, 0)
    if off.max() > 0:
        true, pred = np.unravel_index(int(off.argmax()), off.shape)
        text += " " + translate(lang, "words.confusion.mistake", true=class_names[true], pred=class_names[pred],
                                n=int(off[true, pred]))
    return text


def confusion_table(matrix, class_names: Sequence[str], true_word: str) -> pd.DataFrame:
    """The matrix with its classes named: rows the true class, columns what the model said."""
    names = [str(c) for c in class_names]
    table = pd.DataFrame(np.asarray(matrix, dtype=int), columns=names)
    table.insert(0, true_word, names)
    return table


def boundary_shares(boundary: dict) -> list[float]:
    """The share of the plane the model gives each class."""
    z = np.asarray(boundary["z"], dtype=float)
    n = int(boundary.get("n_classes") or 2)
    predicted = (z >= 0.5).astype(int) if n == 2 else np.rint(z).astype(int)
    return [float(np.mean(predicted == k)) for k in range(n)]


def describe_boundary(boundary: dict, class_names: Sequence[str], lang: str) -> str:
    """'The model gives class 0 48% of the plane and class 1 52%.'"""
    parts = [translate(lang, "words.boundary.part", name=name, share=f"{share:.0%}")
             for name, share in zip(class_names, boundary_shares(boundary))]
    return translate(lang, "words.boundary", parts=translate(lang, "words.list_sep").join(parts))


def describe_probabilities(probs, class_names: Sequence[str], lang: str) -> str:
    """'The model says 7 (92%); next comes 1 (5%).'"""
    p = np.asarray(probs, dtype=float)
    order = np.argsort(-p)
    text = translate(lang, "words.probs.top", name=class_names[order[0]], p=f"{p[order[0]]:.0%}")
    if len(p) > 1:
        text += " " + translate(lang, "words.probs.next", name=class_names[order[1]], p=f"{p[order[1]]:.0%}")
    return text


def probabilities_table(probs, class_names: Sequence[str], columns: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame({columns[0]: [str(c) for c in class_names], columns[1]: np.round(np.asarray(probs, float), 4)})


def runs_last_values(runs: dict[str, pd.DataFrame], name: str) -> dict[str, float]:
    """Each run's last value of the point name `name` (runs without one left out)."""
    last = {}
    for run, frame in runs.items():
        rows = frame[frame["name"] == name].dropna(subset=["value"]) if frame is not None and len(frame) else None
        if rows is not None and len(rows):
            last[run] = float(rows.sort_values("step")["value"].iloc[-1])
    return last


def describe_runs(runs: dict[str, pd.DataFrame], name: str, lang: str, *, what: str, percent: bool = False,
                  higher_is_better: bool = True) -> str:
    """'Validation accuracy now, best first: CNN 97%, MLP 93%.' for several runs overlaid in one chart."""
    last = runs_last_values(runs, name)
    if not last:
        return translate(lang, "words.curve.none", what=what)
    order = sorted(last, key=last.get, reverse=higher_is_better)
    parts = [translate(lang, "words.boundary.part", name=run, share=_number(last[run], percent)) for run in order]
    return translate(lang, "words.runs", what=what, parts=translate(lang, "words.list_sep").join(parts))


def runs_table(runs: dict[str, pd.DataFrame], name: str, columns: tuple[str, str]) -> pd.DataFrame:
    last = runs_last_values(runs, name)
    return pd.DataFrame({columns[0]: list(last), columns[1]: list(last.values())})


def describe_grid(grid: pd.DataFrame, lang: str, *, what: str) -> str:
    """'Validation accuracy in 4 of 6 cells so far, from 0.61 to 0.95.' for a sweep's heatmap."""
    values = grid.to_numpy(dtype=float)
    filled = values[~np.isnan(values)]
    if not filled.size:
        return translate(lang, "words.grid.none", what=what)
    return translate(lang, "words.grid", what=what, filled=filled.size, n=values.size,
                     low=f"{filled.min():.3g}", high=f"{filled.max():.3g}")


def grid_table(grid: pd.DataFrame, row_header: str) -> pd.DataFrame:
    """The heatmap's cells as a table: its rows named in a first column headed `row_header`."""
    table = grid.round(4).reset_index(drop=True)
    table.insert(0, row_header, [str(i) for i in grid.index])
    return table


def _line_traces(fig) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, x, y) of each line or point trace a legend names (a trace that repeats a legend entry joins it)."""
    traces = []
    for trace in fig.data:
        if trace.type not in ("scatter", "scattergl", "bar") or trace.y is None or trace.name is None:
            continue
        y = np.asarray(trace.y, dtype=float)
        x = np.asarray(trace.x if trace.x is not None else np.arange(len(y)))
        traces.append((str(trace.name), x, y))
    return traces


def describe_lines(fig, lang: str) -> str:
    """'past values go from 0.2 to 0.8 (lowest 0.1, highest 0.9); predicted from 0.8 to 0.7 ...' for a
    chart of named lines (series, signals, forecasts, a schedule), read from the figure itself."""
    parts, seen = [], set()
    for name, _, y in _line_traces(fig):
        y = y[~np.isnan(y)]
        if name in seen or not y.size:
            continue
        seen.add(name)
        parts.append(translate(lang, "words.line", name=name, first=_number(y[0], False), last=_number(y[-1], False),
                               low=_number(float(y.min()), False), high=_number(float(y.max()), False)))
    return translate(lang, "words.lines", parts=translate(lang, "words.parts_sep").join(parts)) if parts \
        else translate(lang, "words.lines.none")


def lines_table(fig, x_header: str, max_rows: int = 200) -> pd.DataFrame:
    """The chart's lines side by side: one row per x, one column per named line (every k-th row when long)."""
    columns: dict[str, pd.Series] = {}
    for name, x, y in _line_traces(fig):
        series = pd.Series(y, index=x).groupby(level=0).last()
        columns[name] = series if name not in columns else columns[name].combine_first(series)
    if not columns:
        return pd.DataFrame()
    table = pd.DataFrame(columns).sort_index().round(4)
    table = table.rename_axis(x_header).reset_index()
    if len(table) > max_rows:
        keep = sorted({*range(0, len(table), -(-len(table) // max_rows)), len(table) - 1})
        table = table.iloc[keep].reset_index(drop=True)
    return table


def describe_pictures(titles: Sequence[str], lang: str) -> str:
    """'16 pictures, captioned: 0, 1, 2 ...' for a grid of small images."""
    return translate(lang, "words.pictures", n=len(titles),
                     titles=translate(lang, "words.list_sep").join(map(str, titles)))


def pictures_table(titles: Sequence[str], columns: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame({columns[0]: range(1, len(titles) + 1), columns[1]: [str(c) for c in titles]})


def describe_counts(y, class_names: Sequence[str], lang: str, of: str = "points") -> str:
    """'600 points: class 0 301, class 1 299.' for a scatter of a task's points by class (`of`: points or
    images, what is counted)."""
    counts = np.bincount(np.asarray(y, dtype=int), minlength=len(class_names))
    parts = [translate(lang, "words.boundary.part", name=name, share=int(n)) for name, n in zip(class_names, counts)]
    return translate(lang, f"words.counts.{of}", n=int(counts.sum()),
                     parts=translate(lang, "words.list_sep").join(parts))


def points_table(x, y, class_names: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """One row per class: how many points, and the mean of each drawn feature. `columns`: class, count, x, y."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=int)
    rows = [{columns[0]: name, columns[1]: int((y == k).sum()),
             **{columns[2 + j]: round(float(x[y == k, j].mean()), 3) if (y == k).any() else None for j in range(2)}}
            for k, name in enumerate(class_names)]
    return pd.DataFrame(rows)
