"""Comparing runs without Streamlit: colours, labels, the leaderboard and its winner, the overlaid curves."""
import dataclasses
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from modelkit.compare import race
from modelkit.config import make_config
from modelkit.plots import figures
from modelkit.store import Run

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def run(run_id, arch, status="completed", task="mnist1d", **metrics):
    return Run(id=run_id, name="", owner="web", task=task, arch=arch, config={}, status=status, message="",
               created=T0, started=T0, finished=T0 + timedelta(seconds=30) if status != "running" else None,
               device="cpu", params=1000, metrics=metrics)


def points(*vals, name="val_accuracy"):
    return pd.DataFrame({"id": range(1, len(vals) + 1), "step": [10 * (i + 1) for i in range(len(vals))],
                         "epoch": [i + 1.0 for i in range(len(vals))], "seconds": [2.0 * (i + 1) for i in range(len(vals))],
                         "name": name, "value": vals})


def test_each_run_keeps_its_colour_by_its_place_in_the_comparison():
    colors = race.run_colors(["a", "b", "c"])
    assert colors == {"a": figures.PALETTE[0], "b": figures.PALETTE[1], "c": figures.PALETTE[2]}
    assert race.run_colors(["a", "b", "c", "d"])["c"] == colors["c"]


def test_a_repeated_architecture_is_numbered_in_labels():
    labels = race.run_labels([run("1", "cnn"), run("2", "mlp"), run("3", "cnn")], str.upper)
    assert labels == {"1": "CNN #1", "2": "MLP", "3": "CNN #2"}


def test_leaderboard_has_best_and_final_validation_metric_test_metrics_and_the_paper_figure():
    runs = [run("a", "cnn", test_accuracy=0.93, test_f1=0.92, seconds=30.0, samples_per_s=900.0),
            run("b", "linear", test_accuracy=0.31, test_f1=0.30, seconds=30.0, samples_per_s=9000.0),
            run("c", "transformer", test_accuracy=0.90, test_f1=0.89, seconds=30.0, samples_per_s=500.0)]
    table = race.leaderboard(runs, {"a": points(0.5, 0.95, 0.94), "b": points(0.3, 0.32)}, "val_accuracy",
                                ("test_accuracy", "test_f1"))
    a = table.set_index("run_id").loc["a"]
    assert (a["best_val"], a["final_val"], a["test_accuracy"], a["paper"]) == (0.95, 0.94, 0.93, 0.94)
    assert table.set_index("run_id").loc["b", "paper"] == 0.32
    assert pd.isna(table.set_index("run_id").loc["c", "paper"])           # the paper reports no Transformer
    assert pd.isna(table.set_index("run_id").loc["c", "best_val"])        # no validation point yet
    assert table["winner"].tolist() == [True, False, False]


def test_no_winner_while_a_run_still_trains():
    runs = [run("a", "cnn", test_accuracy=0.9), run("b", "mlp", status="running")]
    table = race.leaderboard(runs, {}, "val_accuracy", ("test_accuracy",))
    assert not table["winner"].any()


def test_lower_perplexity_wins_and_failed_runs_never_do():
    runs = [run("a", "gru", task="text", test_perplexity=5.0), run("b", "transformer", task="text", test_perplexity=4.0),
            run("c", "rnn", status="failed", task="text", test_perplexity=1.0)]
    table = race.leaderboard(runs, {}, "val_perplexity", ("test_perplexity",))
    assert table.loc[table["winner"], "run_id"].tolist() == ["b"]
    assert table["paper"].isna().all()


def test_history_table_lists_final_metrics_and_seconds_per_run():
    table = race.history_table([run("a", "cnn", test_accuracy=0.9, seconds=12.5), run("b", "lstm", status="running")])
    assert table["id"].tolist() == ["a", "b"]
    assert table.loc[0, "test_accuracy"] == 0.9 and table.loc[0, "seconds"] == 12.5
    assert pd.isna(table.loc[1, "seconds"]) and pd.isna(table.loc[1, "test_r2"])


@pytest.mark.parametrize("x", ["step", "epoch", "seconds"])
def test_overlaid_curves_use_the_chosen_x_axis_and_one_colour_per_run(x):
    frames = {"CNN": points(1.0, 0.5, 0.2, name="loss"), "MLP": points(2.0, 1.0, 0.9, name="loss")}
    fig = figures.runs_curve_figure(frames, "loss", colors={"CNN": "#111111", "MLP": "#222222"}, x=x, smoothing=0.5)
    bold = [tr for tr in fig.data if tr.showlegend is not False]
    assert [tr.name for tr in bold] == ["CNN", "MLP"]
    assert [tr.line.color for tr in bold] == ["#111111", "#222222"]
    assert list(bold[0].x) == frames["CNN"][x].tolist()
    faint = [tr for tr in fig.data if tr.showlegend is False]
    assert len(faint) == 2 and all(tr.opacity < 0.5 for tr in faint)   # raw values under the smoothed ones


def test_reference_lines_are_dashed_in_the_runs_colour():
    fig = figures.runs_curve_figure({"CNN": points(0.5, 0.9)}, "val_accuracy", colors={"CNN": "#123456"},
                                  references={"CNN": (0.94, "paper: CNN 94%")})
    line = fig.layout.shapes[0]
    assert (line.y0, line.line.dash, line.line.color) == (0.94, "dash", "#123456")
    assert fig.layout.annotations[0].text == "paper: CNN 94%"


def test_long_runs_are_thinned_for_drawing():
    frame = points(*[1.0 / (i + 1) for i in range(10_000)], name="loss")
    fig = figures.runs_curve_figure({"A": frame}, "loss", colors={"A": "#000000"}, max_points=500)
    assert len(fig.data[0].x) <= 501 and fig.data[0].x[-1] == frame["step"].iloc[-1]


def configured(run_id, arch, *sets):
    """A finished moons run of `arch` with the default settings and `sets` applied."""
    return dataclasses.replace(run(run_id, arch, task="moons"), config=make_config("moons", arch, list(sets)).to_dict())


def test_runs_of_one_architecture_are_labelled_by_what_differs_between_them():
    runs = [configured("1", "mlp", "train.optimizer=gd"), configured("2", "mlp", "train.optimizer=sgd"),
            configured("3", "mlp", "train.optimizer=adam"), configured("4", "linear", "train.optimizer=sgd")]
    labels = race.run_labels(runs, str.upper, lambda path, value: str(value))
    assert labels == {"1": "MLP · gd", "2": "MLP · sgd", "3": "MLP · adam", "4": "LINEAR"}
    assert race.label_settings(runs) == ["train.optimizer"]


def test_runs_that_differ_in_nothing_are_numbered():
    runs = [configured("1", "mlp", "train.lr=0.1"), configured("2", "mlp", "train.lr=0.1")]
    assert race.run_labels(runs, str.upper) == {"1": "MLP #1", "2": "MLP #2"}


def test_reference_labels_sit_right_of_the_curves_and_apart_from_each_other():
    frames = {"CNN": points(0.5, 0.9), "GRU": points(0.4, 0.8)}
    fig = figures.runs_curve_figure(frames, "val_accuracy", colors={"CNN": "#111111", "GRU": "#222222"},
                                  references={"CNN": (0.94, "94%"), "GRU": (0.91, "91%")}, y_range=(0, 1.02))
    notes = {a.text: a for a in fig.layout.annotations}
    assert set(notes) == {"94%", "91%"}
    assert all(a.xref == "paper" and a.x >= 1 and a.xanchor == "left" for a in notes.values())   # outside the plot
    assert notes["94%"].yshift - notes["91%"].yshift >= 12            # close values: stacked, not overlapping


def test_history_table_names_the_cluster_node_that_trained_a_run():
    local, on_ray = run("a", "cnn"), run("b", "mlp")
    on_ray.node = "gpu-box (3f9a1c2e)"
    nodes = race.history_table([local, on_ray])["node"]
    assert pd.isna(nodes[0]) and nodes[1] == "gpu-box (3f9a1c2e)"
