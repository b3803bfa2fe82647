"""The Look-inside charts in words: beside each figure of modelkit.plots.inside_charts, a `describe_*`
(one sentence that follows the data, in the reader's language) and a `*_table` (its numbers).

They take the arrays modelkit.inside returns, as the figures do; no Streamlit here. A table keeps to a
size a screen reader can walk: one row per layer, filter, position or step, a few columns each.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from modelkit.plots.inside_charts import shown_char
from modelkit.plots.words import _number
from modelkit.text import translate

MAX_ROWS = 64


def _col(lang: str, name: str) -> str:
    return translate(lang, f"words.col.{name}")


def _join(lang: str, parts: Sequence[str]) -> str:
    return translate(lang, "words.list_sep").join(parts)


def _share(value: float) -> str:
    return f"{value:.0%}"


def _thin(table: pd.DataFrame, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Every k-th row and the last, at most about `max_rows`."""
    if len(table) <= max_rows:
        return table
    keep = sorted({*range(0, len(table), -(-len(table) // max_rows)), len(table) - 1})
    return table.iloc[keep].reset_index(drop=True)


# --- forward pass ----------------------------------------------------------------------------

def describe_input(x, example: int, label: str | None, lang: str) -> str:
    """'Test example 3 (7): 64 values from 0 to 16.'"""
    x = np.asarray(x, dtype=float)
    shape = " × ".join(str(n) for n in x.shape)
    return translate(lang, "words.inside.input", n=example, label=label if label is not None else "", shape=shape,
                     low=_number(float(x.min()), False), high=_number(float(x.max()), False))


def input_table(x, lang: str) -> pd.DataFrame:
    """An image row by row (one column per pixel), a sequence one step a row (one column per value)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 3:
        x = x.mean(0)   # channels averaged, as the picture shows them
    x = x.reshape(len(x), -1) if x.ndim > 1 else x[:, None]
    first = _col(lang, "row" if x.shape[1] > 3 else "position")
    table = pd.DataFrame(np.round(x, 3), columns=[str(i) for i in range(x.shape[1])] if x.shape[1] > 1
                         else [_col(lang, "value")])
    table.insert(0, first, range(len(table)))
    return _thin(table)


def describe_activations(layers: Sequence[Mapping], lang: str) -> str:
    """'Neurons that fire (above 0), layer by layer: hidden.0 41%, hidden.1 30%, out 50%.'"""
    parts = [translate(lang, "words.boundary.part", name=layer["name"], share=_share(layer["summary"]["active"]))
             for layer in layers]
    return translate(lang, "words.inside.activations", parts=_join(lang, parts))


def activations_table(layers: Sequence[Mapping], lang: str) -> pd.DataFrame:
    rows = []
    for layer in layers:
        values = np.asarray(layer["values"], dtype=float).ravel()
        rows.append({_col(lang, "layer"): layer["name"], _col(lang, "neurons"): values.size,
                     _col(lang, "firing"): round(layer["summary"]["active"], 3),
                     _col(lang, "mean"): round(layer["summary"]["mean"], 3),
                     _col(lang, "max"): round(layer["summary"]["max"], 3),
                     _col(lang, "strongest"): int(np.argmax(values)) if values.size else None})
    return pd.DataFrame(rows)


def region_shares(regions: Mapping) -> np.ndarray:
    """Each first-layer neuron's share of the plane where its output is above zero."""
    maps = np.asarray(regions["maps"], dtype=float)
    return (maps > 0).reshape(len(maps), -1).mean(1)


def describe_regions(regions: Mapping, lang: str) -> str:
    """'The first layer's 8 neurons each draw one line across the plane; each is on over 12% to 80% of it.'"""
    shares = region_shares(regions)
    return translate(lang, "words.inside.regions", n=len(shares), low=_share(float(shares.min())),
                     high=_share(float(shares.max())))


def regions_table(regions: Mapping, lang: str) -> pd.DataFrame:
    maps = np.asarray(regions["maps"], dtype=float)
    flat = maps.reshape(len(maps), -1)
    return pd.DataFrame({_col(lang, "neuron"): range(1, len(maps) + 1),
                         _col(lang, "on_share"): np.round(region_shares(regions), 3),
                         _col(lang, "min"): np.round(flat.min(1), 3), _col(lang, "max"): np.round(flat.max(1), 3)})


# --- loss and gradients ----------------------------------------------------------------------

def describe_loss_compare(curves: Mapping, p: float, lang: str) -> str:
    """'With 0.30 on the right class, cross-entropy is 1.2 and MSE 0.245; at 0.01, cross-entropy climbs to
    4.61 while MSE reaches only 0.49.'"""
    ps = np.asarray(curves["p"], dtype=float)
    at = {name: float(np.interp(p, ps, curves[name])) for name in ("cross_entropy", "mse")}
    worst = {name: float(np.asarray(curves[name], dtype=float)[np.argmin(ps)]) for name in at}
    return translate(lang, "words.inside.loss_compare", p=f"{p:.2f}", ce=f"{at['cross_entropy']:.3g}",
                     mse=f"{at['mse']:.3g}", low=f"{ps.min():.2f}", ce_worst=f"{worst['cross_entropy']:.3g}",
                     mse_worst=f"{worst['mse']:.3g}")


def loss_compare_table(curves: Mapping, lang: str, rows: int = 20) -> pd.DataFrame:
    ps = np.asarray(curves["p"], dtype=float)
    keep = np.unique(np.linspace(0, len(ps) - 1, rows).round().astype(int))
    return pd.DataFrame({_col(lang, "probability"): np.round(ps[keep], 2),
                         **{translate(lang, f"inside.loss_name.{name}"): np.round(np.asarray(curves[name])[keep], 4)
                            for name in ("cross_entropy", "mse")}})


def describe_gradients(norms: Mapping[str, Sequence], lang: str) -> str:
    """'Gradient norm at the last step, largest first: hidden.0 0.12, out 0.034.'"""
    last = {layer: float(series[-1][1]) for layer, series in norms.items() if len(series)}
    order = sorted(last, key=last.get, reverse=True)
    parts = [translate(lang, "words.boundary.part", name=layer, share=_number(last[layer], False)) for layer in order]
    return translate(lang, "words.inside.gradients", parts=_join(lang, parts))


def gradients_table(norms: Mapping[str, Sequence], lang: str) -> pd.DataFrame:
    """One row per step, one column per layer."""
    frames = [pd.DataFrame(np.asarray(series, dtype=float), columns=["step", layer]).set_index("step")
              for layer, series in norms.items() if len(series)]
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, axis=1).sort_index().reset_index()
    table["step"] = table["step"].astype(int)
    return _thin(table.rename(columns={"step": _col(lang, "step")}).round(5))


# --- convolution -----------------------------------------------------------------------------

def describe_filters(filters, layer: int, lang: str) -> str:
    """'Layer 1 has 8 filters of 3 × 3 weights, from -0.52 to 0.61; filter 4 weighs the most.'"""
    w = np.asarray(filters, dtype=float)
    strength = np.abs(w).reshape(len(w), -1).mean(1)
    return translate(lang, "words.inside.filters", layer=layer, n=len(w), size=" × ".join(map(str, w.shape[2:])),
                     low=_number(float(w.min()), False), high=_number(float(w.max()), False),
                     strongest=int(np.argmax(strength)) + 1)


def filters_table(filters, lang: str) -> pd.DataFrame:
    flat = np.asarray(filters, dtype=float).reshape(len(filters), -1)
    return pd.DataFrame({_col(lang, "filter"): range(1, len(flat) + 1), _col(lang, "min"): np.round(flat.min(1), 3),
                         _col(lang, "max"): np.round(flat.max(1), 3),
                         _col(lang, "mean_size"): np.round(np.abs(flat).mean(1), 3)})


def describe_feature_maps(maps, lang: str) -> str:
    """'On this example filter 3 answers most strongly (up to 2.1); 2 of 8 filters stay at zero.'"""
    flat = np.asarray(maps, dtype=float).reshape(len(maps), -1)
    peaks = flat.max(1)
    return translate(lang, "words.inside.feature_maps", strongest=int(np.argmax(peaks)) + 1,
                     peak=_number(float(peaks.max()), False), silent=int((peaks <= 0).sum()), n=len(flat))


def feature_maps_table(maps, lang: str) -> pd.DataFrame:
    flat = np.asarray(maps, dtype=float).reshape(len(maps), -1)
    return pd.DataFrame({_col(lang, "filter"): range(1, len(flat) + 1), _col(lang, "max"): np.round(flat.max(1), 3),
                         _col(lang, "mean"): np.round(flat.mean(1), 3),
                         _col(lang, "firing"): np.round((flat > 0).mean(1), 3)})


def describe_pooling(before, after, lang: str) -> str:
    """'Pooling shrinks the map from 8 × 8 to 4 × 4 and keeps each patch's strongest value; the largest,
    2.1, stays.'"""
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    return translate(lang, "words.inside.pooling", before=" × ".join(map(str, before.shape)),
                     after=" × ".join(map(str, after.shape)), peak=_number(float(after.max()), False))


def pooling_table(after, lang: str) -> pd.DataFrame:
    """The map after pooling: row by row for a picture, one position a row for a sequence."""
    return input_table(after, lang)


# --- recurrent networks ----------------------------------------------------------------------

def describe_hidden(hidden, lang: str) -> str:
    """'32 units over 16 steps; the state changes most at step 5; at the end unit 3 is the strongest (0.92).'"""
    h = np.asarray(hidden, dtype=float)
    change = np.linalg.norm(np.diff(h, axis=0, prepend=np.zeros((1, h.shape[1]))), axis=1)
    last = h[-1]
    unit = int(np.argmax(np.abs(last)))
    return translate(lang, "words.inside.hidden", units=h.shape[1], steps=h.shape[0], step=int(np.argmax(change)),
                     unit=unit, value=_number(float(last[unit]), False))


def hidden_table(hidden, lang: str, tokens=None, steps=None) -> pd.DataFrame:
    """One row per step: what was read, how far the state moved, and its strongest unit."""
    h = np.asarray(hidden, dtype=float)
    change = np.linalg.norm(np.diff(h, axis=0, prepend=np.zeros((1, h.shape[1]))), axis=1)
    strongest = np.abs(h).argmax(1)
    table = pd.DataFrame({_col(lang, "step"): range(len(h))})
    if tokens is not None:
        table[_col(lang, "read")] = [shown_char(c) for c in tokens]
    elif steps is not None:
        table[_col(lang, "read")] = [", ".join(f"{v:.2f}" for v in np.atleast_1d(s)[:4]) for s in np.asarray(steps)]
    table[_col(lang, "change")] = np.round(change, 3)
    table[_col(lang, "strongest")] = strongest
    table[_col(lang, "value")] = np.round(h[np.arange(len(h)), strongest], 3)
    return _thin(table)


def guesses_right(guesses: Mapping) -> tuple[int, int]:
    """How often the first guess after a character is the character that follows: (right, of)."""
    read, first = list(guesses["read"]), [row[0] for row in guesses["guesses"]]
    pairs = list(zip(first[:-1], read[1:]))
    return sum(g == c for g, c in pairs), len(pairs)


def describe_guesses(guesses: Mapping, lang: str) -> str:
    right, of = guesses_right(guesses)
    last, p = guesses["guesses"][-1][0], float(np.asarray(guesses["probabilities"])[-1][0])
    return translate(lang, "words.inside.guesses", right=right, n=of, next=shown_char(last), p=_share(p))


def guesses_table(guesses: Mapping, lang: str) -> pd.DataFrame:
    p = np.asarray(guesses["probabilities"], dtype=float)
    table = pd.DataFrame({_col(lang, "position"): range(len(guesses["read"])),
                          _col(lang, "read"): [shown_char(c) for c in guesses["read"]]})
    for k in range(p.shape[1]):
        table[translate(lang, "words.col.guess_n", n=k + 1)] = [f"{shown_char(row[k])} ({p[i, k]:.0%})"
                                                                  for i, row in enumerate(guesses["guesses"])]
    return _thin(table)


# --- Transformers ----------------------------------------------------------------------------

def attention_names(token_labels: Sequence) -> list[str]:
    """The positions as the attention chart names them."""
    return [f"{i}:{shown_char(c)}" if len(str(c)) <= 1 else str(c) for i, c in enumerate(token_labels)]


def describe_attention(attention, token_labels: Sequence, lang: str) -> str:
    """'Each position gives its strongest look 62% of its attention on average; 3:e is looked at most (by 5 of 16).'"""
    a = np.asarray(attention, dtype=float)
    names = attention_names(token_labels)
    targets = a.argmax(1)
    most = int(np.bincount(targets, minlength=a.shape[1]).argmax())
    return translate(lang, "words.inside.attention", share=_share(float(a.max(1).mean())), name=names[most],
                     k=int((targets == most).sum()), n=len(a))


def attention_table(attention, token_labels: Sequence, lang: str) -> pd.DataFrame:
    """One row per position that looks: where it looks most, and next."""
    a = np.asarray(attention, dtype=float)
    names = attention_names(token_labels)
    order = np.argsort(-a, axis=1)
    table = pd.DataFrame({_col(lang, "position"): names,
                          _col(lang, "looks_most"): [names[o[0]] for o in order],
                          _col(lang, "weight"): [round(float(a[i, o[0]]), 3) for i, o in enumerate(order)]})
    if a.shape[1] > 1:
        table[_col(lang, "then")] = [f"{names[o[1]]} ({a[i, o[1]]:.2f})" for i, o in enumerate(order)]
    return _thin(table)


def describe_positional(encoding, similarity, kind: str, lang: str) -> str:
    """'Each of the 16 positions gets 32 numbers of its own; neighbours are alike (0.93), positions 8 apart
    less so (0.12).'"""
    s = np.asarray(similarity, dtype=float)
    n, gap = len(s), max(1, len(s) // 2)
    near = float(np.mean(np.diagonal(s, 1))) if n > 1 else 1.0
    far = float(np.mean(np.diagonal(s, gap))) if n > gap else near
    return translate(lang, "words.inside.positional", kind=kind, n=n, d=np.asarray(encoding).shape[1],
                     near=f"{near:.2f}", gap=gap, far=f"{far:.2f}")


def positional_table(similarity, lang: str) -> pd.DataFrame:
    s = np.asarray(similarity, dtype=float)
    nxt = [round(float(s[i, i + 1]), 3) if i + 1 < len(s) else None for i in range(len(s))]
    return _thin(pd.DataFrame({_col(lang, "position"): range(len(s)), _col(lang, "like_next"): nxt,
                               _col(lang, "like_first"): np.round(s[:, 0], 3)}))


# --- metrics -----------------------------------------------------------------------------------

def describe_class_cells(cells: Mapping, name: str, lang: str) -> str:
    """'Of the 20 test examples the model calls 3, 18 are right (precision 90%); of the 19 that are 3, it
    finds 18 (recall 95%).'"""
    return translate(lang, "words.inside.class_cells", name=name, right=cells["right"], predicted=cells["predicted"],
                     actual=cells["actual"], precision=f"{cells['precision']:.0%}", recall=f"{cells['recall']:.0%}")


def describe_threshold(curve: Sequence[Mapping], threshold: float, lang: str) -> str:
    """'At threshold 0.50: precision 90%, recall 85%, F1 87%; F1 is highest (89%) at 0.42.'"""
    xs = np.array([row["threshold"] for row in curve])
    at = curve[int(np.argmin(np.abs(xs - threshold)))]
    best = max(curve, key=lambda row: row["f1"])
    return translate(lang, "words.inside.threshold", threshold=f"{threshold:.2f}", precision=_share(at["precision"]),
                     recall=_share(at["recall"]), f1=_share(at["f1"]), best=_share(best["f1"]),
                     best_at=f"{best['threshold']:.2f}")


def threshold_table(curve: Sequence[Mapping], lang: str, names: Mapping[str, str]) -> pd.DataFrame:
    """Threshold, then precision, recall and F1 (headed by `names`), every other threshold."""
    table = pd.DataFrame(curve)[["threshold", "precision", "recall", "f1"]].iloc[::2].round(3)
    return table.rename(columns={"threshold": translate(lang, "inside.threshold"), **names}).reset_index(drop=True)


# --- the optimizer race ----------------------------------------------------------------------

def describe_race(losses: Mapping[str, Sequence[float]], names: Mapping[str, str], lang: str) -> str:
    """'After 60 steps, lowest loss first: Adam 0.001, SGD with momentum 0.02, gradient descent 0.3.'"""
    last = {name: float(np.asarray(series)[-1]) for name, series in losses.items()}
    order = sorted(last, key=last.get)
    parts = [translate(lang, "words.boundary.part", name=names.get(n, n), share=_number(last[n], False)) for n in order]
    steps = len(next(iter(losses.values()))) - 1
    return translate(lang, "words.inside.race", steps=steps, parts=_join(lang, parts))


def race_table(losses: Mapping[str, Sequence[float]], names: Mapping[str, str], lang: str,
               every: int = 5) -> pd.DataFrame:
    """The loss each optimizer has reached, every `every` steps (and the last)."""
    n = len(next(iter(losses.values())))
    keep = sorted({*range(0, n, every), n - 1})
    table = pd.DataFrame({_col(lang, "step"): keep})
    for name, series in losses.items():
        table[names.get(name, name)] = [float(f"{np.asarray(series)[k]:.4g}") for k in keep]
    return table
