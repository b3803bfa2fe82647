"""Charts of what is inside a model: data in (modelkit.inside's arrays), Plotly figure out.

Every visible word comes in through `labels`; the English defaults are for scripts and tests.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from modelkit.plots.figures import NEUTRAL, PALETTE, _layout, confusion_matrix_figure, series_style

DIVERGING = "RdBu_r"   # negative blue, zero white, positive red
PATH_COLORS = {"gd": PALETTE[0], "sgd_noise": NEUTRAL, "momentum": PALETTE[1], "adam": PALETTE[2]}


def _lab(defaults: dict, labels: Mapping | None) -> dict:
    return {**defaults, **(labels or {})}


def shown_char(c: str) -> str:
    """A character as a chart shows it: a space as ␣, a newline as \\n."""
    return "␣" if c == " " else repr(c)[1:-1]


def probabilities_figure(probs, class_names, target: int | None = None, *, labels: Mapping | None = None,
                         height: int = 280) -> go.Figure:
    """One bar per class; the right class in green, the others grey."""
    lab = _lab({"x": "class", "y": "probability"}, labels)
    names = [str(c) for c in class_names]
    colors = [PALETTE[2] if i == target else NEUTRAL for i in range(len(names))]
    patterns = ["/" if i == target else "" for i in range(len(names))]   # the right class: not by colour alone
    fig = go.Figure(go.Bar(x=names, y=np.asarray(probs, dtype=float), marker_color=colors,
                           marker_pattern_shape=patterns,
                           hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[0, 1.02])
    return _layout(fig, lab["x"], lab["y"], height).update_layout(hovermode="closest")


def activations_figure(layers: list[dict], *, max_units: int = 128, labels: Mapping | None = None) -> go.Figure:
    """One strip of neurons per layer (input side at the top): colour = how strongly each one fires."""
    lab = _lab({"x": "neuron", "value": "activation"}, labels)
    strips = np.full((len(layers), max_units), np.nan)
    for row, layer in enumerate(layers):
        values = np.asarray(layer["values"], dtype=float).ravel()[:max_units]
        strips[row, :len(values)] = values
    strips = strips[:, :int(np.max(np.nonzero(~np.isnan(strips))[1], initial=0)) + 1]
    scale = np.nanmax(np.abs(strips), axis=1, keepdims=True)
    names = [f"{layer['name']} ({size_text(layer['shape'])})" for layer in layers]
    fig = go.Figure(go.Heatmap(z=strips / np.where(scale > 0, scale, 1), y=names, customdata=strips, zmin=-1, zmax=1,
                               colorscale=DIVERGING, showscale=False, xgap=1, ygap=6,  # each layer on its own scale
                               hovertemplate=f"%{{y}}<br>{lab['x']} %{{x}}<br>{lab['value']} %{{customdata:.3f}}"
                                             "<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, lab["x"], "", 60 + 44 * len(layers)).update_layout(hovermode="closest")


def tiles_figure(images, titles=(), *, columns: int = 8, diverging: bool = True, height: int | None = None,
                 tile_px: int = 70) -> go.Figure:
    """Small images side by side (filters, feature maps, neurons' regions), one shared colour scale."""
    images = np.asarray(images, dtype=float)
    n, h, w = images.shape
    columns = min(columns, n)
    rows = int(np.ceil(n / columns))
    gap = max(1, min(h, w) // 4)
    row_gap = max(gap, h // 3) if len(titles) else gap
    canvas = np.full((rows * (h + row_gap), columns * (w + gap)), np.nan)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        canvas[r * (h + row_gap):r * (h + row_gap) + h, c * (w + gap):c * (w + gap) + w] = img
    scale = dict(colorscale=DIVERGING, zmid=0) if diverging else dict(colorscale="Viridis")
    fig = go.Figure(go.Heatmap(z=canvas, showscale=False, hovertemplate="%{z:.3f}<extra></extra>", **scale))
    for i, text in enumerate(titles):
        r, c = divmod(i, columns)
        fig.add_annotation(x=c * (w + gap) + (w - 1) / 2, y=r * (h + row_gap) - 0.6, text=str(text),
                           showarrow=False, yanchor="bottom", font=dict(size=10, color="#495057"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return fig.update_layout(height=height or 40 + rows * tile_px, margin=dict(l=0, r=0, t=18, b=0))


def regions_figure(regions: Mapping, *, max_neurons: int = 16) -> go.Figure:
    """Each first-layer neuron's output over the plane, as TensorFlow Playground draws its neurons."""
    maps = np.asarray(regions["maps"], dtype=float)[:max_neurons]
    maps = maps / (np.abs(maps).reshape(len(maps), -1).max(1)[:, None, None] + 1e-9)  # each on its own scale
    return tiles_figure(maps[:, ::-1], [str(i + 1) for i in range(len(maps))], columns=8, tile_px=90)


def loss_compare_figure(curves: Mapping, p: float, *, labels: Mapping | None = None, height: int = 300) -> go.Figure:
    """Cross-entropy and MSE as the right class's probability moves; the dots sit at `p`."""
    lab = _lab({"x": "probability of the right class", "y": "loss", "cross_entropy": "cross-entropy",
                "mse": "MSE"}, labels)
    fig = go.Figure()
    for i, name in enumerate(("cross_entropy", "mse")):
        color, dash, _ = series_style(i)
        fig.add_scatter(x=curves["p"], y=curves[name], mode="lines", name=lab[name],
                        line=dict(color=color, width=2, dash=dash))
        y_at = float(np.interp(p, curves["p"], curves[name])) + 0.0   # + 0.0: never "-0.000"
        above = name == "cross_entropy" or y_at > float(np.interp(p, curves["p"], curves["cross_entropy"]))
        fig.add_scatter(x=[p], y=[y_at], mode="markers+text", text=[f"{y_at:.3f}"],   # one label above, one below
                        textposition=("top " if above else "bottom ") + ("left" if p > 0.8 else "right"),
                        marker=dict(color=color, size=11), showlegend=False)
    fig.update_yaxes(range=[0, 4.7])
    return _layout(fig, lab["x"], lab["y"], height)


def grad_norms_figure(norms: Mapping, *, labels: Mapping | None = None, height: int = 340) -> go.Figure:
    """Each layer's gradient norm over training, on a log scale (input layers first)."""
    lab = _lab({"x": "step", "y": "gradient norm"}, labels)
    fig = go.Figure()
    for i, (layer, series) in enumerate(norms.items()):
        pts = np.asarray(series, dtype=float)
        color, dash, symbol = series_style(i)
        fig.add_scatter(x=pts[:, 0], y=pts[:, 1], mode="lines+markers" if len(pts) < 40 else "lines",
                        name=layer, line=dict(color=color, width=2, dash=dash), marker=dict(symbol=symbol))
    fig.update_yaxes(type="log")
    return _layout(fig, lab["x"], lab["y"], height)


def filters_figure(filters, dims: int, *, max_filters: int = 32, labels: Mapping | None = None) -> go.Figure:
    """A conv layer's filters: tiny images (2-D, averaged over input channels) or short lines (1-D)."""
    w = np.asarray(filters, dtype=float)[:max_filters]
    if dims == 2:
        return tiles_figure(w.mean(1), [str(i + 1) for i in range(len(w))], columns=16, tile_px=60)
    lab = _lab({"x": "position in the filter", "y": "weight"}, labels)
    cols = min(8, len(w))
    fig = make_subplots(rows=int(np.ceil(len(w) / cols)), cols=cols, shared_yaxes=True,
                        horizontal_spacing=0.015, vertical_spacing=0.06)
    for i, f in enumerate(w.mean(1)):
        fig.add_scatter(y=f, mode="lines+markers", line=dict(color=PALETTE[0]), marker=dict(size=4),
                        showlegend=False, row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(showticklabels=False)
    return fig.update_layout(height=60 + 80 * int(np.ceil(len(w) / cols)), margin=dict(l=10, r=10, t=10, b=10),
                             yaxis_title=lab["y"])


def feature_maps_figure(maps, dims: int, *, max_maps: int = 32, labels: Mapping | None = None) -> go.Figure:
    """What each filter found in the example: small images (2-D) or one row per filter (1-D)."""
    maps = np.asarray(maps, dtype=float)[:max_maps]
    if dims == 2:
        return tiles_figure(maps, [str(i + 1) for i in range(len(maps))], columns=16, diverging=False, tile_px=60)
    lab = _lab({"x": "position", "y": "filter"}, labels)
    fig = go.Figure(go.Heatmap(z=maps, colorscale="Viridis", showscale=False, y=list(range(1, len(maps) + 1)),
                               hovertemplate=f"{lab['y']} %{{y}}<br>{lab['x']} %{{x}}<br>%{{z:.3f}}<extra></extra>"))
    return _layout(fig, lab["x"], lab["y"], 80 + 9 * len(maps)).update_layout(hovermode="closest")


def size_text(shape) -> str:
    """A shape as a reader writes it: 32, 8×8; not Python's (32,) or (8, 8)."""
    return "×".join(str(int(n)) for n in shape)


def pooling_figure(before, after, dims: int, *, labels: Mapping | None = None, height: int = 260) -> go.Figure:
    """One feature map before pooling (left) and after (right): half the size, the strongest kept."""
    lab = _lab({"before": "before pooling", "after": "after pooling", "x": "position", "y": "value"}, labels)
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    fig = make_subplots(rows=1, cols=2, subplot_titles=[f"{lab['before']} ({size_text(before.shape)})",
                                                        f"{lab['after']} ({size_text(after.shape)})"])
    for col, m in ((1, before), (2, after)):
        if dims == 2:
            fig.add_trace(go.Heatmap(z=m, colorscale="Viridis", showscale=False, zmin=before.min(),
                                     zmax=before.max(), hovertemplate="%{z:.3f}<extra></extra>"), row=1, col=col)
            fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", visible=False,
                             row=1, col=col)
            fig.update_xaxes(visible=False, row=1, col=col)
        else:
            fig.add_bar(y=m, marker_color=PALETTE[0 if col == 1 else 1], showlegend=False, row=1, col=col)
    fig.update_annotations(font_size=12)
    return fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10))


def hidden_figure(hidden, steps=None, tokens=None, *, max_units: int = 64, labels: Mapping | None = None,
                  height: int = 420) -> go.Figure:
    """The input step by step (top) and the hidden state after each step (below): units x time."""
    lab = _lab({"x": "time step", "input": "input", "hidden": "hidden unit"}, labels)
    h = np.asarray(hidden, dtype=float)[:, :max_units].T  # (units, T)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.25, 0.75], vertical_spacing=0.04)
    x = list(range(h.shape[1]))
    if tokens is not None:
        fig.add_trace(go.Heatmap(z=np.zeros((1, len(tokens))), text=[[shown_char(c) for c in tokens]],
                                 texttemplate="%{text}", colorscale=[[0, "#F1F3F5"], [1, "#F1F3F5"]],
                                 showscale=False, x=x, hoverinfo="skip"), row=1, col=1)
    else:
        steps = np.asarray(steps, dtype=float).T  # (values per step, T)
        fig.add_trace(go.Heatmap(z=steps, colorscale="Greys", showscale=False, x=x,
                                 hovertemplate="%{z:.2f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=h, x=x, colorscale=DIVERGING, zmid=0, showscale=False,
                             hovertemplate=f"{lab['x']} %{{x}}<br>{lab['hidden']} %{{y}}<br>%{{z:.3f}}<extra></extra>"),
                  row=2, col=1)
    fig.update_yaxes(title_text=lab["input"], showticklabels=False, row=1, col=1)
    fig.update_yaxes(title_text=lab["hidden"], row=2, col=1)
    fig.update_xaxes(title_text=lab["x"], row=2, col=1)
    return fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10))


def guesses_figure(guesses: Mapping, *, labels: Mapping | None = None, height: int = 220) -> go.Figure:
    """After each character read (columns), the model's top guesses for the next one (rows), by probability."""
    lab = _lab({"x": "character read", "y": "guess"}, labels)
    p = np.asarray(guesses["probabilities"], dtype=float).T  # (top, T)
    text = [[shown_char(row[k]) for row in guesses["guesses"]] for k in range(p.shape[0])]
    read = [f"{i}:{shown_char(c)}" for i, c in enumerate(guesses["read"])]
    fig = go.Figure(go.Heatmap(z=p, x=read, y=[f"#{k + 1}" for k in range(p.shape[0])], text=text,
                               texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1, showscale=False,
                               hovertemplate="%{x} → %{text} (%{z:.2f})<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(type="category", tickangle=0)
    return _layout(fig, lab["x"], lab["y"], height).update_layout(hovermode="closest")


def attention_figure(attention, token_labels, *, labels: Mapping | None = None, height: int = 460) -> go.Figure:
    """One head's attention: row = the position that looks, column = where it looks; each row sums to 1."""
    lab = _lab({"x": "looks at", "y": "position"}, labels)
    names = [f"{i}:{shown_char(c)}" if len(str(c)) <= 1 else str(c) for i, c in enumerate(token_labels)]
    fig = go.Figure(go.Heatmap(z=np.asarray(attention, dtype=float), x=names, y=names, colorscale="Blues",
                               zmin=0, showscale=False,
                               hovertemplate="%{y} → %{x}: %{z:.2f}<extra></extra>"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    return _layout(fig, lab["x"], lab["y"], height).update_layout(hovermode="closest")


def positional_figure(encoding, similarity, *, labels: Mapping | None = None, height: int = 360) -> go.Figure:
    """The positional encoding (position x dimension) beside how alike each two positions' codes are."""
    lab = _lab({"encoding": "encoding", "similarity": "similarity between positions", "position": "position",
                "dimension": "dimension"}, labels)
    fig = make_subplots(rows=1, cols=2, subplot_titles=[lab["encoding"], lab["similarity"]], horizontal_spacing=0.08)
    fig.add_trace(go.Heatmap(z=np.asarray(encoding, dtype=float), colorscale=DIVERGING, zmid=0, showscale=False,
                             hovertemplate=f"{lab['position']} %{{y}}<br>{lab['dimension']} %{{x}}<br>%{{z:.2f}}"
                                           "<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=np.asarray(similarity, dtype=float), colorscale=DIVERGING, zmid=0, zmin=-1, zmax=1,
                             showscale=False, hovertemplate="%{y} ~ %{x}: %{z:.2f}<extra></extra>"), row=1, col=2)
    fig.update_yaxes(autorange="reversed", title_text=lab["position"], row=1, col=1)
    fig.update_yaxes(autorange="reversed", row=1, col=2)
    fig.update_xaxes(title_text=lab["dimension"], row=1, col=1)
    fig.update_xaxes(title_text=lab["position"], row=1, col=2)
    fig.update_annotations(font_size=12)
    return fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10))


def class_cells_figure(matrix, class_names, c: int, *, labels: Mapping | None = None, height: int = 380) -> go.Figure:
    """The confusion matrix with class c's column (its precision) and row (its recall) outlined."""
    lab = _lab({"precision": "precision", "recall": "recall"}, labels)
    fig = confusion_matrix_figure(matrix, class_names, labels=labels, height=height)
    n = len(matrix)
    fig.add_shape(type="rect", x0=c - 0.5, x1=c + 0.5, y0=-0.5, y1=n - 0.5, line=dict(color=PALETTE[1], width=3))
    fig.add_shape(type="rect", x0=-0.5, x1=n - 0.5, y0=c - 0.5, y1=c + 0.5, line=dict(color=PALETTE[2], width=3))
    fig.add_annotation(x=c, y=-0.5, text=lab["precision"], showarrow=False, yanchor="bottom",
                       font=dict(color=PALETTE[1]))
    fig.add_annotation(x=n - 0.5, y=c, text=lab["recall"], showarrow=False, xanchor="left",
                       font=dict(color=PALETTE[2]))
    return fig  # on category axes a shape's number is the category's index


def threshold_figure(curve: list[dict], threshold: float, *, labels: Mapping | None = None,
                     height: int = 300) -> go.Figure:
    """Precision, recall and F1 as the threshold moves; the dotted line is the chosen threshold."""
    lab = _lab({"x": "threshold", "y": "score", "precision": "precision", "recall": "recall", "f1": "F1"}, labels)
    fig = go.Figure()
    xs = [row["threshold"] for row in curve]
    for (name, color), dash in zip((("precision", PALETTE[1]), ("recall", PALETTE[2]), ("f1", PALETTE[0])),
                                   ("solid", "dash", "dot")):
        fig.add_scatter(x=xs, y=[row[name] for row in curve], mode="lines", name=lab[name],
                        line=dict(color=color, width=2, dash=dash))
    fig.add_vline(x=threshold, line_dash="dot", line_color="#495057")
    fig.update_yaxes(range=[0, 1.02])
    return _layout(fig, lab["x"], lab["y"], height)


def surface_figure(grid: Mapping, paths: Mapping, *, labels: Mapping | None = None, height: int = 480) -> go.Figure:
    """The loss surface as contours, and each optimizer's path from the shared start (a cross)."""
    lab = _lab({"x": "w₁", "y": "w₂", **{name: name for name in paths}}, labels)
    z = np.asarray(grid["z"], dtype=float)
    z = np.sign(z) * np.log1p(np.abs(z))  # evenly spaced lines down on the valley floor too
    fig = go.Figure(go.Contour(x=grid["xs"], y=grid["ys"], z=z, colorscale="Greys", showscale=False,
                               contours=dict(coloring="lines"), ncontours=24, hoverinfo="skip"))
    for i, (name, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=float)
        _, dash, symbol = series_style(i)
        fig.add_scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name=lab[name],
                        line=dict(color=PATH_COLORS.get(name, PALETTE[4]), width=2, dash=dash),
                        marker=dict(size=6, symbol=symbol))
    first = np.asarray(next(iter(paths.values())))[0]
    fig.add_scatter(x=[first[0]], y=[first[1]], mode="markers", marker=dict(symbol="x", size=14, color=NEUTRAL),
                    showlegend=False, hoverinfo="skip")
    extent = float(max(np.abs(grid["xs"]).max(), 1.0))
    fig.update_xaxes(range=[-extent, extent], constrain="domain")
    fig.update_yaxes(range=[-extent, extent], scaleanchor="x", constrain="domain")
    return _layout(fig, lab["x"], lab["y"], height).update_layout(hovermode="closest")
