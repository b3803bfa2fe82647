"""Chart builders: data in, Plotly figure out. No Streamlit, no store.

Curves take the store's point frames (columns step, name, value; see
store.points) so that the Train page (one run) and the Compare page (several
runs, one colour each) draw with the same functions. Every visible word comes
in through `labels`, so pages pass translated text; the English defaults are
for scripts and tests.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.signal import lfilter

from modelkit.written import chart_text

# Okabe & Ito's colour-blind-safe colours (black left out: it vanishes on the dark theme). Under simulated
# protanopia, deuteranopia and tritanopia every two stay apart (tests/test_palette.py); series beyond
# the colours, and every series besides its colour, differ by dash and marker too (series_style).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
NEUTRAL = "#6C757D"   # "the others" (grey bars, a reference path)
DASHES = ("solid", "dash", "dot", "dashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "pentagon")
REFERENCE_MARGIN = 48   # px right of a chart's plotting area, where reference labels go
SCREEN_POINTS = 1000    # points a curve draws at most: more cannot be told apart on a chart, and cost every poll
RECENT_POINTS = 200     # of them, the latest ones at full resolution: where a live run's change shows
CURVE_LABELS = {"step": "step", "loss": "loss", "train": "training", "smoothed": "training (smoothed)",
                "val": "validation", "value": "value"}


def series_style(i: int) -> tuple[str, str, str]:
    """The i-th series' colour, dash and marker: two series never differ by colour alone."""
    return PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)], SYMBOLS[i % len(SYMBOLS)]


def ema(values, smoothing: float) -> np.ndarray:
    """Exponential moving average, debiased like TensorBoard's (smoothing 0 = raw)."""
    values = np.asarray(values, dtype=float)
    if not len(values):
        return values
    avg = lfilter([1 - smoothing], [1, -smoothing], values)   # avg[i] = s * avg[i-1] + (1 - s) * values[i]
    weight = 1 - smoothing ** np.arange(1, len(values) + 1)     # the same recurrence on ones
    return avg / np.where(weight > 0, weight, 1.0)


def screen_rows(n: int, max_points: int = SCREEN_POINTS, recent: int = RECENT_POINTS) -> np.ndarray:
    """Which of `n` ordered points a curve draws: all when they fit, else the latest `recent` and an even
    stride through the rest (the first point included), `max_points` in all at most."""
    if n <= max_points:
        return np.arange(n)
    older = n - recent
    stride = -(-older // (max_points - recent))   # ceiling division
    return np.concatenate([np.arange(0, older, stride), np.arange(older, n)])


def _as_runs(points) -> dict[str, pd.DataFrame]:
    """One frame -> {"": frame}; a mapping of label -> frame passes through."""
    if isinstance(points, Mapping):
        return dict(points)
    return {"": points}


def _series(frame: pd.DataFrame, name: str, *, thin: bool = False) -> pd.DataFrame:
    """The (step, value) rows of one curve in step order; `thin`: only those a chart draws (screen_rows)."""
    if frame is None or frame.empty:
        return pd.DataFrame({"step": [], "value": []})
    rows = frame[frame["name"] == name]
    rows = rows[["step", "value"]].sort_values("step")
    return rows.iloc[screen_rows(len(rows))] if thin else rows


def _line_mode(series: pd.DataFrame, max_markers: int = 60) -> str:
    """Markers on each evaluation while there are few; a plain line once they would blur into a band."""
    return "lines+markers" if len(series) <= max_markers else "lines"


def _layout_spec(x_title: str, y_title: str, height: int = 320) -> dict:
    return dict(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified",
                legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                xaxis=dict(title=dict(text=x_title)), yaxis=dict(title=dict(text=y_title)))


def _layout(fig: go.Figure, x_title: str, y_title: str, height: int = 320) -> go.Figure:
    fig.update_layout(_layout_spec(x_title, y_title, height))
    return fig


def _curve_figure(traces: list, x_title: str, y_title: str, height: int, x_range, y_axis: dict) -> go.Figure:
    """One figure made in one go (a live chart is built every poll: a figure grown trace by trace and
    restyled afterwards costs several times more)."""
    layout = _layout_spec(x_title, y_title, height)
    if x_range is not None:
        layout["xaxis"]["range"] = list(x_range)
    layout["yaxis"].update(y_axis)
    return go.Figure(data=traces, layout=layout)


def loss_curve_figure(points, *, smoothing: float = 0.8, labels: Mapping | None = None,
                      log_y: bool = False, height: int = 320, x_range=None) -> go.Figure:
    """Training loss per step (raw faint, smoothed bold) and validation loss per evaluation.

    `points` is one store frame or {run label: frame} to overlay several runs.
    """
    lab = {**CURVE_LABELS, **(labels or {})}
    traces = []
    for i, (run, frame) in enumerate(_as_runs(points).items()):
        color, dash, symbol = series_style(i)
        prefix = f"{run} · " if run else ""
        train = _series(frame, "loss", thin=False)
        if len(train):
            smoothed = ema(train["value"], smoothing)   # over every point, then thinned with them
            shown = screen_rows(len(train))
            train, smoothed = train.iloc[shown], smoothed[shown]
            traces.append(go.Scatter(x=train["step"], y=train["value"], mode="lines", name=prefix + lab["train"],
                                     line=dict(color=color, width=1), opacity=0.25, showlegend=not run,
                                     legendgroup=run or "train", hoverinfo="skip"))
            traces.append(go.Scatter(x=train["step"], y=smoothed, mode="lines",
                                     name=prefix + lab["smoothed"] if not run else run,
                                     line=dict(color=color, width=2.5, dash=dash), legendgroup=run or "train"))
        val = _series(frame, "val_loss", thin=True)
        if len(val):
            traces.append(go.Scatter(x=val["step"], y=val["value"], mode=_line_mode(val), name=prefix + lab["val"],
                                     line=dict(color=color if run else PALETTE[1], width=2, dash="dot"),
                                     marker=dict(size=6, symbol=symbol), legendgroup=run or "val"))
    return _curve_figure(traces, lab["step"], lab["loss"], height, x_range, {"type": "log"} if log_y else {})


def metric_curve_figure(points, metric: str, *, train_metric: str | None = None, labels: Mapping | None = None,
                        y_range=None, height: int = 320, x_range=None) -> go.Figure:
    """A validation metric per evaluation (accuracy, R², perplexity...), optionally with its training twin."""
    lab = {**CURVE_LABELS, **(labels or {})}
    traces = []
    for i, (run, frame) in enumerate(_as_runs(points).items()):
        color, dash, symbol = series_style(i)
        prefix = f"{run} · " if run else ""
        if train_metric:
            tr = _series(frame, train_metric, thin=True)
            if len(tr):
                traces.append(go.Scatter(x=tr["step"], y=tr["value"], mode="lines", name=prefix + lab["train"],
                                         line=dict(color=color, width=2, dash="dot"), opacity=0.5))
        val = _series(frame, metric, thin=True)
        if len(val):
            traces.append(go.Scatter(x=val["step"], y=val["value"], mode=_line_mode(val), name=run or lab["val"],
                                     line=dict(color=color if run else PALETTE[2], width=2.5, dash=dash),
                                     marker=dict(size=6, symbol=symbol)))
    return _curve_figure(traces, lab["step"], lab["value"], height, x_range,
                         {"range": list(y_range)} if y_range is not None else {})


def _class_colors(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def _points_traces(fig: go.Figure, x, y, class_names, marker_size=6):
    x, y = np.asarray(x), np.asarray(y)
    names = list(class_names) or [str(c) for c in sorted(set(y.tolist()))]
    for c in range(len(names)):
        color, _, symbol = series_style(c)
        mask = y == c
        fig.add_scatter(x=x[mask, 0], y=x[mask, 1], mode="markers", name=str(names[c]),
                        marker=dict(color=color, size=marker_size, symbol=symbol, line=dict(color="white", width=0.6)))


def points_preview_figure(x, y, class_names=(), *, labels: Mapping | None = None, height: int = 300,
                          same_scale: bool = True) -> go.Figure:
    """2-D points coloured by class (two columns of a wider table: then each axis keeps its own units)."""
    lab = {"x": "x₁", "y": "x₂", **(labels or {})}
    fig = go.Figure()
    _points_traces(fig, x, y, class_names)
    if same_scale:
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return _layout(fig, lab["x"], lab["y"], height)


def _blend(hex_a: str, weight: float) -> str:
    """`hex_a` faded towards white: weight 1 = full colour, 0 = white."""
    r, g, b = (int(hex_a[i:i + 2], 16) for i in (1, 3, 5))
    mix = lambda c: round(255 - (255 - c) * weight)  # noqa: E731
    return f"rgb({mix(r)},{mix(g)},{mix(b)})"


def decision_boundary_figure(boundary: Mapping, x, y, class_names=(), *, labels: Mapping | None = None,
                             height: int = 380) -> go.Figure:
    """What the model predicts over the plane (heatmap) under the data points, like TensorFlow Playground.

    boundary = {"xs": [nx], "ys": [ny], "z": [ny][nx], "n_classes": k}: z is the probability of
    class 1 when k == 2, else the predicted class (see evaluate.decision_boundary).
    """
    lab = {"x": "x₁", "y": "x₂", "value": "class 1 probability", **(labels or {})}
    z = np.asarray(boundary["z"], dtype=float)
    n = int(boundary.get("n_classes") or 2)
    colors = _class_colors(n)
    if n == 2:  # class 0 colour -> white at 50 % -> class 1 colour
        scale = [[0.0, _blend(colors[0], 0.7)], [0.5, "rgb(255,255,255)"], [1.0, _blend(colors[1], 0.7)]]
        plane = go.Heatmap(x=boundary["xs"], y=boundary["ys"], z=z, zmin=0, zmax=1, colorscale=scale, showscale=False,
                           zsmooth="best", hovertemplate=f"{lab['value']}: %{{z:.2f}}<extra></extra>")
    else:  # one flat band of colour per predicted class
        scale = []
        for k, c in enumerate(colors):
            scale += [[k / n, _blend(c, 0.45)], [(k + 1) / n, _blend(c, 0.45)]]
        plane = go.Heatmap(x=boundary["xs"], y=boundary["ys"], z=z + 0.5, zmin=0, zmax=n, colorscale=scale,
                           showscale=False, hoverinfo="skip")
    x, y = np.asarray(x), np.asarray(y)
    names = list(class_names) or [str(c) for c in sorted(set(y.tolist()))]
    points = [go.Scatter(x=x[y == c, 0], y=x[y == c, 1], mode="markers", name=str(names[c]),
                         marker=dict(color=color, size=5, line=dict(color="white", width=0.6)))
              for c, color in zip(range(len(names)), _class_colors(len(names)))]
    layout = _layout_spec(lab["x"], lab["y"], height)
    # a square plane: the plot shrinks to fit its box rather than stretching the axes past the data
    layout["xaxis"].update(range=[min(boundary["xs"]), max(boundary["xs"])], showgrid=False, zeroline=False,
                           constrain="domain")
    layout["yaxis"].update(range=[min(boundary["ys"]), max(boundary["ys"])], showgrid=False, zeroline=False,
                           scaleanchor="x", constrain="domain")
    layout["hovermode"] = "closest"
    return go.Figure(data=[plane, *points], layout=layout)   # in one go: a live run's plane is drawn every poll


def confusion_matrix_figure(matrix, class_names=(), *, labels: Mapping | None = None,
                            height: int = 380) -> go.Figure:
    """Rows: the true class; columns: what the model said. Counts in the cells."""
    lab = {"true": "true class", "pred": "predicted class", **(labels or {})}
    m = np.asarray(matrix, dtype=int)
    names = [str(c) for c in class_names] or [str(i) for i in range(len(m))]
    fig = go.Figure(go.Heatmap(z=m, x=names, y=names, colorscale="Blues", showscale=False,
                               text=m, texttemplate="%{text}",
                               hovertemplate=f"{lab['true']}: %{{y}}<br>{lab['pred']}: %{{x}}<br>%{{z}}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="bottom")
    return _layout(fig, lab["pred"], lab["true"], height).update_layout(hovermode="closest")


def digits_figure(images, titles=(), *, columns: int = 8, title_colors=(), height: int | None = None) -> go.Figure:
    """A grid of small images in grey, each with an optional caption above it."""
    images = np.asarray(images, dtype=float)
    if images.ndim == 4:  # (N, C, H, W): colour images shown by their brightness
        images = images.mean(1)
    n, h, w = images.shape
    rows = int(np.ceil(n / columns))
    gap = 2
    row_gap = max(gap, h // 2) if len(titles) else gap  # room for the next row's captions
    canvas = np.full((rows * (h + row_gap), columns * (w + gap)), np.nan)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        canvas[r * (h + row_gap):r * (h + row_gap) + h, c * (w + gap):c * (w + gap) + w] = img
    fig = go.Figure(go.Heatmap(z=canvas, colorscale="Greys", showscale=False, hoverinfo="skip"))
    for i, text in enumerate(titles):
        r, c = divmod(i, columns)
        color = title_colors[i] if i < len(title_colors) else "#495057"
        fig.add_annotation(x=c * (w + gap) + (w - 1) / 2, y=r * (h + row_gap) - 0.6, text=str(text),
                           showarrow=False, yanchor="bottom", font=dict(size=11, color=color))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(height=height or 70 + rows * 70, margin=dict(l=0, r=0, t=18, b=0))
    return fig


def signals_figure(signals, names=(), *, labels: Mapping | None = None, height: int = 300) -> go.Figure:
    """A few 1-D signals (MNIST-1D), one line each, named by their class."""
    lab = {"x": "position", "y": "value", **(labels or {})}
    fig = go.Figure()
    for i, s in enumerate(np.asarray(signals, dtype=float)):
        color, dash, _ = series_style(i)
        fig.add_scatter(y=s, mode="lines", name=str(names[i]) if i < len(names) else str(i),
                        line=dict(color=color, width=2, dash=dash))
    return _layout(fig, lab["x"], lab["y"], height)


def series_figure(history, *, true_future=None, predicted_future=None, labels: Mapping | None = None,
                  height: int = 300) -> go.Figure:
    """A time series: the past values, and optionally the true and predicted next values."""
    lab = {"x": "time step", "y": "value", "history": "past values", "true": "true next values",
           "pred": "predicted", **(labels or {})}
    history = np.asarray(history, dtype=float).ravel()
    t0 = len(history)
    fig = go.Figure()
    fig.add_scatter(x=np.arange(t0), y=history, mode="lines", name=lab["history"], line=dict(color=PALETTE[0], width=2))
    if true_future is not None:
        tf = np.asarray(true_future, dtype=float).ravel()
        fig.add_scatter(x=np.arange(t0, t0 + len(tf)), y=tf, mode="lines+markers", name=lab["true"],
                        line=dict(color=PALETTE[2], width=2))
    if predicted_future is not None:
        pf = np.asarray(predicted_future, dtype=float).ravel()
        fig.add_scatter(x=np.arange(t0, t0 + len(pf)), y=pf, mode="lines+markers", name=lab["pred"],
                        line=dict(color=PALETTE[1], width=2, dash="dot"))
    return _layout(fig, lab["x"], lab["y"], height)


def predicted_vs_true_figure(true, predicted, *, labels: Mapping | None = None, height: int = 320) -> go.Figure:
    """Each test value: the truth on x, the model's forecast on y; perfect forecasts lie on the diagonal."""
    lab = {"x": "true value", "y": "predicted value", **(labels or {})}
    t = np.asarray(true, dtype=float).ravel()
    p = np.asarray(predicted, dtype=float).ravel()
    lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
    fig = go.Figure()
    fig.add_scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(color="#ADB5BD", dash="dash"), showlegend=False,
                    hoverinfo="skip")
    fig.add_scatter(x=t, y=p, mode="markers", marker=dict(color=PALETTE[0], size=5, opacity=0.6), showlegend=False)
    return _layout(fig, lab["x"], lab["y"], height).update_layout(hovermode="closest")


def _decimate(x: np.ndarray, ys: list[np.ndarray], max_points: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Every k-th point (and the last), so a long run draws as fast as a short one."""
    if len(x) <= max_points:
        return x, ys
    keep = np.unique(np.r_[np.arange(0, len(x), int(np.ceil(len(x) / max_points))), len(x) - 1])
    return x[keep], [y[keep] for y in ys]


def runs_curve_figure(runs: Mapping[str, pd.DataFrame], metric: str, *, colors: Mapping[str, str],
                      x: str = "step", smoothing: float = 0.0, log_y: bool = False,
                      references: Mapping[str, tuple[float, str]] | None = None, labels: Mapping | None = None,
                      y_range=None, max_points: int = 1500, height: int = 340) -> go.Figure:
    """One point name (`loss`, `val_loss`, `val_accuracy`...) of several runs overlaid, one colour per run.

    `runs` maps each run's label to its point frame; `colors` maps the same labels to colours. `x` is the
    frame column on the x-axis (step, epoch or seconds). With `smoothing` > 0 the curve is its exponential
    moving average, drawn over the raw values in the same colour, faint. `references` maps a label to a
    (value, text) drawn as a dashed horizontal line in that label's colour (e.g. a paper's figure).
    """
    lab = {"x": x, "value": metric, **(labels or {})}
    fig = go.Figure()
    for i, (run, frame) in enumerate(runs.items()):
        color, dash, symbol = colors.get(run, PALETTE[0]), DASHES[i % len(DASHES)], SYMBOLS[i % len(SYMBOLS)]
        rows = frame[frame["name"] == metric].dropna(subset=["value"]).sort_values(["step", "id"]) \
            if frame is not None and len(frame) else None
        if rows is None or rows.empty:
            continue
        xs, raw = rows[x].to_numpy(float), rows["value"].to_numpy(float)
        smooth = ema(raw, smoothing) if smoothing > 0 else raw
        xs, (raw, smooth) = _decimate(xs, [raw, smooth], max_points)
        # x unified: the x value heads the hover box; a run's name as typed, never as Plotly's HTML
        hover = f"<b>{chart_text(run)}</b>: %{{y:.4g}}<extra></extra>"
        if smoothing > 0:
            fig.add_scatter(x=xs, y=raw, mode="lines", line=dict(color=color, width=1), opacity=0.25,
                            showlegend=False, legendgroup=run, hoverinfo="skip")
        few = len(xs) <= 60
        fig.add_scatter(x=xs, y=smooth, mode="lines+markers" if few else "lines", name=run, legendgroup=run,
                        line=dict(color=color, width=2.5, dash=dash), marker=dict(size=5, symbol=symbol),
                        hovertemplate=hover)
    _reference_lines(fig, references or {}, colors, y_range)
    if log_y:
        fig.update_yaxes(type="log")
    elif y_range is not None:
        fig.update_yaxes(range=list(y_range))
    _layout(fig, lab["x"], lab["value"], height)
    if references:
        fig.update_layout(margin_r=REFERENCE_MARGIN)   # the labels' room, right of the plotting area
    return fig


def _reference_lines(fig: go.Figure, references: Mapping[str, tuple[float, str]], colors: Mapping[str, str],
                     y_range=None):
    """Each reference as a dashed line across the plot, its label in the right margin where no curve runs;
    labels of lines closer than a label's height are stacked upwards."""
    values = [value for value, _ in references.values()]
    low, high = y_range if y_range is not None else (min(values, default=0.0), max(values, default=1.0))
    close = (high - low) / 20 or 1.0
    shift, previous = 0, None
    for run, (value, text) in sorted(references.items(), key=lambda item: item[1][0]):
        color = colors.get(run, NEUTRAL)
        shift = shift + 12 if previous is not None and value - previous < close else 0
        previous = value
        fig.add_hline(y=value, line=dict(color=color, width=1.5, dash="dash"))
        fig.add_annotation(x=1, xref="paper", xanchor="left", xshift=4, y=value, yref="y", yshift=shift,
                           text=text, showarrow=False, font=dict(size=11, color=color))
