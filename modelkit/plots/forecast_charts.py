"""Charts of an uploaded series: the whole series with its split, and the test part with the forecast over it.

Data in (lists or arrays, already in the series' own units), Plotly figure out.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from modelkit.plots.figures import PALETTE, _layout, series_style

MAX_POINTS = 4000          # points per line drawn; longer series are thinned evenly


def _thin(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    every = max(1, len(steps) // MAX_POINTS)
    return steps[::every], values[::every]


def series_preview_figure(columns: Mapping[str, np.ndarray], *, val_start: int | None = None,
                          test_start: int | None = None, labels: Mapping | None = None,
                          height: int = 300) -> go.Figure:
    """Each column over its time steps; the validation and test parts shaded at the end."""
    lab = {"x": "time step", "y": "value", "val": "validation", "test": "test part", **(labels or {})}
    fig = go.Figure()
    for i, (name, values) in enumerate(columns.items()):
        values = np.asarray(values, dtype=float)
        x, y = _thin(np.arange(len(values)), values)
        color, dash, _ = series_style(i)
        fig.add_scatter(x=x, y=y, mode="lines", name=str(name), line=dict(color=color, width=1.5, dash=dash))
    n = max((len(v) for v in columns.values()), default=0)
    for start, stop, name, shade in ((val_start, test_start, lab["val"], "#E9ECEF"), (test_start, n, lab["test"], "#DEE2E6")):
        if start is not None and stop is not None and start < stop:
            fig.add_vrect(x0=start, x1=stop - 1, fillcolor=shade, opacity=0.6, line_width=0, layer="below",
                          annotation_text=name, annotation_position="top left")
    return _layout(fig, lab["x"], lab["y"], height).update_layout(showlegend=len(columns) > 1)


def forecast_figure(forecast: Mapping, *, labels: Mapping | None = None, height: int = 340) -> go.Figure:
    """The true series around and over the test part, the one-step-ahead forecast over it, and a few
    whole forecasts (the fan of the horizon) from where each starts."""
    lab = {"x": "time step", "y": "value", "true": "true values", "pred": "forecast, one step ahead",
           "path": "whole forecast", "test": "test part", **(labels or {})}
    fig = go.Figure()
    steps, true = np.asarray(forecast["steps"]), np.asarray(forecast["true"], dtype=float)
    fig.add_vrect(x0=forecast["test_start"], x1=steps[-1], fillcolor="#E9ECEF", opacity=0.6, line_width=0,
                  layer="below", annotation_text=lab["test"], annotation_position="top left")
    fig.add_scatter(x=steps, y=true, mode="lines", name=lab["true"], line=dict(color=PALETTE[0], width=2))
    one = forecast["one_step"]
    fig.add_scatter(x=one["steps"], y=one["pred"], mode="lines", name=lab["pred"],
                    line=dict(color=PALETTE[1], width=2, dash="dot"))
    for i, path in enumerate(forecast.get("paths", ())):
        x = np.arange(path["start"], path["start"] + len(path["pred"]))
        fig.add_scatter(x=x, y=path["pred"], mode="lines+markers", name=lab["path"], legendgroup="paths",
                        showlegend=i == 0, line=dict(color=PALETTE[2], width=1.5), marker=dict(size=4))
    return _layout(fig, lab["x"], lab["y"], height)
