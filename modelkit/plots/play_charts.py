"""Charts for playing with training: learning-rate changes, the learning-rate curve, a sweep's heatmap and
what size buys. Data in, Plotly figure out, every visible word through `labels` (as in modelkit.plots.figures)."""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from modelkit.plots.figures import PALETTE, _layout, _series

MARKER_COLOR = "#E8590C"


def add_lr_markers(fig: go.Figure, changes: pd.DataFrame, text: Callable[[float], str] = "lr → {:g}".format):
    """A dashed vertical line at each step where the learning rate was changed, labelled `text(new rate)`."""
    for step, value in zip(changes["step"], changes["value"]):
        fig.add_vline(x=float(step), line=dict(color=MARKER_COLOR, width=1.5, dash="dash"))
        fig.add_annotation(x=float(step), y=1, yref="paper", yanchor="bottom", text=text(float(value)),
                           showarrow=False, font=dict(size=11, color=MARKER_COLOR))
    return fig


def lr_figure(points: pd.DataFrame, *, labels: Mapping | None = None, height: int = 170) -> go.Figure:
    """The learning rate the optimizer used at each step (schedule and changes together), on a log axis."""
    lab = {"step": "step", "lr": "learning rate", **(labels or {})}
    lr = _series(points, "lr", thin=True)
    fig = go.Figure(go.Scatter(x=lr["step"], y=lr["value"], mode="lines", line=dict(color=PALETTE[4], width=2),
                               line_shape="hv", name=lab["lr"], hovertemplate="%{y:.3g}<extra></extra>"))
    fig.update_yaxes(type="log", exponentformat="power", nticks=3, tickformat=".1~g")   # a short chart: three ticks
    return _layout(fig, lab["step"], lab["lr"], height).update_layout(showlegend=False)


def sweep_heatmap_figure(grid: pd.DataFrame, best: tuple | None = None, *, labels: Mapping | None = None,
                         higher_is_better: bool = True, height: int = 360) -> go.Figure:
    """The validation metric over the grid: rows = y values, columns = x values (a one-setting sweep has a
    single row); empty cells are runs still to come. `best` = (x, y) of the best cell, outlined."""
    lab = {"x": "x", "y": "", "value": "value", **(labels or {})}
    xs = [str(v) for v in grid.columns]
    ys = [str(v) for v in grid.index]
    z = grid.to_numpy(dtype=float)
    text = [["" if np.isnan(v) else f"{v:.3g}" for v in row] for row in z]
    scale = "Viridis" if higher_is_better else "Viridis_r"
    fig = go.Figure(go.Heatmap(x=xs, y=ys, z=z, text=text, texttemplate="%{text}", colorscale=scale,
                               colorbar=dict(title=lab["value"]), hoverongaps=False,
                               hovertemplate=f"{lab['x']} %{{x}} · {lab['y']} %{{y}}: %{{z:.4g}}<extra></extra>"))
    if best is not None:
        i, j = xs.index(str(best[0])), ys.index(str(best[1]))
        fig.add_shape(type="rect", x0=i - 0.5, x1=i + 0.5, y0=j - 0.5, y1=j + 0.5,
                      line=dict(color="#E03131", width=4))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", showticklabels=len(ys) > 1 or bool(ys[0]))
    return _layout(fig, lab["x"], lab["y"], height).update_layout(hovermode="closest")


def scale_figure(table: pd.DataFrame, *, labels: Mapping | None = None, height: int = 380) -> go.Figure:
    """Test metric (left axis) and training seconds (right axis) against parameter count (log axis).
    `table` has columns params, metric, seconds, one row per size."""
    lab = {"params": "parameters", "metric": "test metric", "seconds": "training time (s)", **(labels or {})}
    rows = table.dropna(subset=["params"]).sort_values("params")
    fig = go.Figure()
    fig.add_scatter(x=rows["params"], y=rows["metric"], mode="lines+markers", name=lab["metric"],
                    line=dict(color=PALETTE[0], width=3), marker=dict(size=9))
    fig.add_scatter(x=rows["params"], y=rows["seconds"], mode="lines+markers", name=lab["seconds"], yaxis="y2",
                    line=dict(color=PALETTE[1], width=2, dash="dot"), marker=dict(size=7, symbol="square"))
    fig.update_xaxes(type="log")
    _layout(fig, lab["params"], lab["metric"], height)
    return fig.update_layout(yaxis2=dict(title=lab["seconds"], overlaying="y", side="right", rangemode="tozero",
                                         showgrid=False), hovermode="x unified")
