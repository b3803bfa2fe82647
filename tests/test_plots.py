"""Chart builders: data in, Plotly figure out."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from modelkit.plots import figures


def points(steps=50, evals=5):
    rows = [{"step": s, "name": "loss", "value": 2.0 / s} for s in range(1, steps + 1)]
    rows += [{"step": s, "name": "val_loss", "value": 2.5 / s} for s in range(10, steps + 1, steps // evals)]
    rows += [{"step": s, "name": "val_accuracy", "value": 1 - 1 / s} for s in range(10, steps + 1, steps // evals)]
    return pd.DataFrame(rows)


def test_ema_with_no_smoothing_is_the_raw_series():
    assert np.allclose(figures.ema([3.0, 1.0, 2.0], 0.0), [3.0, 1.0, 2.0])


def test_ema_starts_at_the_first_value_and_smooths_jumps():
    out = figures.ema([1.0, 1.0, 5.0], 0.9)
    assert out[0] == 1.0 and 1.0 < out[2] < 5.0


def test_loss_curve_has_raw_faint_smoothed_bold_and_validation():
    fig = figures.loss_curve_figure(points(), labels={"val": "validation"})
    raw, smooth, val = fig.data
    assert raw.opacity < 0.5 and len(raw.x) == 50
    assert smooth.line.width > raw.line.width
    assert val.name == "validation" and len(val.x) == 5


def test_loss_curve_overlays_several_runs_in_different_colours():
    fig = figures.loss_curve_figure({"cnn": points(), "mlp": points()})
    colours = {tr.line.color for tr in fig.data}
    assert len(colours) == 2


def test_loss_curve_of_no_points_is_an_empty_figure():
    assert isinstance(figures.loss_curve_figure(pd.DataFrame(columns=["step", "name", "value"])), go.Figure)


def test_metric_curve_draws_the_named_metric_only():
    fig = figures.metric_curve_figure(points(), "val_accuracy")
    assert len(fig.data) == 1 and len(fig.data[0].x) == 5


def test_binary_decision_boundary_is_a_heatmap_of_probabilities_under_the_points():
    boundary = {"xs": [0, 1, 2], "ys": [0, 1], "z": [[0.1, 0.5, 0.9], [0.2, 0.6, 0.8]], "n_classes": 2}
    x = np.array([[0.0, 0.0], [2.0, 1.0]])
    fig = figures.decision_boundary_figure(boundary, x, np.array([0, 1]), ("a", "b"))
    assert fig.data[0].type == "heatmap" and (fig.data[0].zmin, fig.data[0].zmax) == (0, 1)
    assert [tr.name for tr in fig.data[1:]] == ["a", "b"]


def test_multiclass_decision_boundary_colours_by_predicted_class():
    boundary = {"xs": [0, 1], "ys": [0, 1], "z": [[0, 1], [2, 2]], "n_classes": 3}
    fig = figures.decision_boundary_figure(boundary, np.zeros((3, 2)), np.array([0, 1, 2]))
    assert fig.data[0].zmax == 3 and len(fig.data) == 4


def test_confusion_matrix_shows_counts_with_true_classes_as_rows():
    fig = figures.confusion_matrix_figure([[5, 1], [0, 4]], ["cat", "dog"])
    heat = fig.data[0]
    assert list(heat.y) == ["cat", "dog"] and heat.z.tolist() == [[5, 1], [0, 4]]


def test_digits_figure_places_every_image_with_its_caption():
    fig = figures.digits_figure(np.random.rand(10, 1, 8, 8), [str(i) for i in range(10)], columns=5)
    assert len(fig.layout.annotations) == 10
    assert fig.data[0].z.shape == (2 * (8 + 4), 5 * (8 + 2))  # rows leave room for the captions under them


def test_series_figure_continues_the_history_with_truth_and_forecast():
    fig = figures.series_figure(np.arange(10.0), true_future=[10, 11], predicted_future=[10.5, 11.5])
    assert list(fig.data[1].x) == [10, 11] and list(fig.data[2].x) == [10, 11]


def test_ema_follows_the_debiased_recurrence_step_by_step():
    values, smoothing = np.random.default_rng(0).normal(size=500), 0.8
    avg = weight = 0.0
    expected = []
    for v in values:
        avg, weight = smoothing * avg + (1 - smoothing) * v, smoothing * weight + (1 - smoothing)
        expected.append(avg / weight)
    assert np.allclose(figures.ema(values, smoothing), expected)


def test_a_short_curve_draws_every_point():
    assert list(figures.screen_rows(50)) == list(range(50))


def test_a_long_curve_draws_a_bounded_number_with_the_latest_points_in_full():
    rows = figures.screen_rows(62_000, max_points=1000, recent=200)
    assert len(rows) <= 1000 and rows[0] == 0
    assert list(rows[-200:]) == list(range(62_000 - 200, 62_000))
    assert np.all(np.diff(rows) > 0)


def test_a_long_run_loss_chart_draws_at_most_the_screen_budget_and_ends_at_its_last_step():
    fig = figures.loss_curve_figure(points(steps=20_000, evals=20))
    raw, smooth, val = fig.data
    assert len(raw.x) <= figures.SCREEN_POINTS and len(smooth.x) == len(raw.x)
    assert raw.x[-1] == 20_000 and len(val.x) == 20
