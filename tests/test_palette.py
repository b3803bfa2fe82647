"""The chart colours stay apart for colour-blind readers, and no two series differ by colour alone.

Colour blindness is simulated with Machado, Oliveira & Fernandes (2009)'s matrices at full severity,
applied in linear RGB; two colours count as apart when their CIELAB distance is at least APART
(about where two thin lines stop being mistaken for one another at a glance).
"""
import itertools

import numpy as np
import pandas as pd
import pytest

from modelkit import inside
from modelkit.plots import figures, forecast_charts, inside_charts

MACHADO = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}
APART = 15.0


def linear_rgb(hex_colour: str) -> np.ndarray:
    srgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb_linear
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])   # D65 white
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_as(hex_colour: str, deficiency: str | None) -> np.ndarray:
    rgb = linear_rgb(hex_colour)
    if deficiency:
        rgb = np.clip(np.asarray(MACHADO[deficiency]) @ rgb, 0, 1)
    return lab(rgb)


def closest_pair(colours, deficiency) -> float:
    return min(np.linalg.norm(seen_as(a, deficiency) - seen_as(b, deficiency))
               for a, b in itertools.combinations(colours, 2))


@pytest.mark.parametrize("deficiency", [None, *MACHADO])
def test_every_two_palette_colours_stay_apart(deficiency):
    assert closest_pair(figures.PALETTE, deficiency) >= APART


def test_the_check_tells_red_from_green_apart_only_for_normal_vision():
    red_green = ("#D62728", "#2CA02C")   # a classic pair that deuteranopes confuse
    assert closest_pair(red_green, None) >= APART
    assert closest_pair(red_green, "deuteranopia") < APART


def test_neutral_grey_stays_apart_from_the_colour_it_is_shown_against():
    for deficiency in (None, *MACHADO):
        assert closest_pair((figures.NEUTRAL, figures.PALETTE[2]), deficiency) >= APART


def overlay(n: int) -> dict:
    frame = pd.DataFrame({"id": range(1, 7), "step": [1, 2, 3, 1, 2, 3], "name": ["loss"] * 3 + ["val_loss"] * 3,
                          "value": [1.0, 0.5, 0.3, 1.1, 0.6, 0.4]})
    return {f"run {i}": frame for i in range(n)}


def styles(traces) -> list[tuple]:
    return [(tr.line.dash or "solid", tr.marker.symbol) for tr in traces]


def test_overlaid_runs_differ_by_dash_and_marker_not_only_by_colour():
    fig = figures.loss_curve_figure(overlay(4))
    smoothed = [tr for tr in fig.data if tr.name in overlay(4)]
    assert len(set(styles(smoothed))) == 4


def test_runs_beyond_the_palette_still_differ_in_colour_or_style():
    n = len(figures.PALETTE) + 2
    frames = {f"run {i}": overlay(1)["run 0"] for i in range(n)}
    colors = {run: figures.PALETTE[i % len(figures.PALETTE)] for i, run in enumerate(frames)}
    fig = figures.runs_curve_figure(frames, "loss", colors=colors)
    looks = [(tr.line.color, tr.line.dash, tr.marker.symbol) for tr in fig.data]
    assert len(set(looks)) == n


def test_each_class_of_points_has_its_own_marker():
    x = np.array([[0, 0], [1, 1], [2, 2]])
    fig = figures.points_preview_figure(x, np.array([0, 1, 2]), ["a", "b", "c"])
    assert len({tr.marker.symbol for tr in fig.data}) == 3


def test_the_right_class_bar_is_marked_by_a_pattern_as_well_as_colour():
    fig = inside_charts.probabilities_figure([0.2, 0.7, 0.1], ["a", "b", "c"], target=1)
    assert list(fig.data[0].marker.pattern.shape) == ["", "/", ""]


def line_looks(fig) -> list[tuple]:
    return [(tr.line.dash or "solid", tr.marker.symbol if "markers" in (tr.mode or "") else None)
            for tr in fig.data if tr.type == "scatter" and tr.showlegend is not False and "lines" in (tr.mode or "")]


@pytest.mark.parametrize("chart", ["loss_compare", "gradients", "threshold", "optimizer_race", "series_preview"])
def test_the_lines_of_a_chart_differ_by_dash_or_marker_not_only_by_colour(chart):
    p, y = np.array([0.2, 0.6, 0.9]), np.array([0, 1, 1])
    fig = {"loss_compare": lambda: inside_charts.loss_compare_figure(inside.ce_vs_mse(3), 0.5),
           "gradients": lambda: inside_charts.grad_norms_figure({"a": [[1, 0.1], [2, 0.2]], "b": [[1, 0.3], [2, 0.1]],
                                                                 "c": [[1, 0.5], [2, 0.4]]}),
           "threshold": lambda: inside_charts.threshold_figure(inside.threshold_curve(p, y), 0.5),
           "optimizer_race": lambda: inside_charts.surface_figure(inside.surface_grid("bowl"),
                                                                  inside.optimizer_paths("bowl", 0.1, steps=5)),
           "series_preview": lambda: forecast_charts.series_preview_figure({"a": np.arange(5.0), "b": np.ones(5)}),
           }[chart]()
    looks = line_looks(fig)
    assert len(looks) >= 2 and len(set(looks)) == len(looks)
