"""Sweeps and scale ladders: the configs a grid expands to, the cap, the heatmap table, what size buys."""
import json
import math
from types import SimpleNamespace

import pandas as pd
import pytest

from modelkit.compare import sweep
from modelkit.config import ConfigError, RunConfig, make_config
from modelkit.data import tasks


@pytest.fixture(scope="module")
def base():
    return make_config("moons", "mlp", ["train.epochs=5"])


def test_a_two_setting_grid_expands_to_one_config_per_cell_first_setting_slowest(base):
    configs = sweep.expand(base, {"train.lr": [0.01, 0.1], "model.hidden": [8, 32]})
    assert [(c.train.lr, c.model.hidden) for c in configs] == [(0.01, [8, 8]), (0.01, [32, 32]),
                                                               (0.1, [8, 8]), (0.1, [32, 32])]
    assert {(c.train.epochs, c.task.n_samples, c.train.seed) for c in configs} == {(5, 1000, 0)}
    assert {c.name for c in configs} == {""} and {json.dumps(c.group) for c in configs} == {"{}"}   # of no group


def test_a_grids_runs_keep_their_group_and_the_settings_it_varies_not_a_name_in_one_language(base):
    grouped = RunConfig.from_dict({**base.to_dict(), "group": {"kind": "sweep", "at": 1_700_000_000}})
    configs = sweep.expand(grouped, {"train.lr": [0.01, 0.1], "model.hidden": [8, 32]})
    assert {c.name for c in configs} == {""}
    assert configs[3].group == {"kind": "sweep", "at": 1_700_000_000, "axes": ["train.lr", "model.hidden"]}
    assert RunConfig.from_json(configs[3].to_json()).group == configs[3].group   # stored with the run


@pytest.mark.parametrize("group", [{"kind": "party", "at": 1}, {"kind": "sweep", "at": "noon"},
                                   {"kind": "sweep", "at": 1, "axes": ["lr"]}, {"kind": "sweep", "at": 1, "x": 1}])
def test_a_group_that_is_not_one_is_refused_in_words(base, group):
    with pytest.raises(ConfigError) as refused:
        RunConfig.from_dict({**base.to_dict(), "group": group})
    assert (refused.value.path, refused.value.code) == ("group", "bad_group")


def test_a_grid_over_the_cap_is_refused(base):
    with pytest.raises(ConfigError) as refused:
        sweep.expand(base, {"train.lr": [0.001, 0.003, 0.01, 0.03, 0.1], "train.batch_size": [8, 16, 32, 64]})
    assert (refused.value.code, refused.value.params["n"], refused.value.params["cap"]) == ("sweep_too_big", 20, 16)


@pytest.mark.parametrize("axes, code", [({}, "sweep_axes"), ({"train.lr": []}, "sweep_values"),
                                        ({"train.lr": [0.1], "train.batch_size": [8], "model.dropout": [0.1]},
                                         "sweep_axes")])
def test_a_sweep_varies_one_or_two_settings_each_with_values(base, axes, code):
    with pytest.raises(ConfigError) as refused:
        sweep.expand(base, axes)
    assert refused.value.code == code


def test_a_value_the_config_refuses_is_refused_in_a_sweep(base):
    with pytest.raises(ConfigError) as refused:
        sweep.expand(base, {"train.lr": [0.01, -1]})
    assert refused.value.path == "train.lr"


def test_values_are_read_from_a_comma_separated_list():
    assert sweep.parse_values("0.001, 0.01,0.01, 0.1", "train.lr") == [0.001, 0.01, 0.1]
    with pytest.raises(ConfigError):
        sweep.parse_values(" , ", "train.lr")


def test_the_settings_offered_are_those_the_architecture_has(base):
    assert sweep.sweepable(base) == ["train.lr", "train.batch_size", "train.weight_decay", "model.hidden",
                                     "model.dropout"]


def fake_run(run_id, lr, hidden):
    return SimpleNamespace(id=run_id, config={"train": {"lr": lr}, "model": {"hidden": [hidden, hidden]}})


def points(*accuracies):
    return pd.DataFrame({"step": range(len(accuracies)), "name": "val_accuracy", "value": accuracies})


def test_the_heatmap_holds_each_cells_best_validation_so_far_and_marks_the_best_cell():
    runs = [fake_run("a", 0.01, 8), fake_run("b", 0.01, 32), fake_run("c", 0.1, 8), fake_run("d", 0.1, 32)]
    frames = {"a": points(0.5, 0.7), "b": points(0.9, 0.8), "c": points(0.6)}   # d has not checked yet
    table, best = sweep.grid_table(runs, frames, ["train.lr", "model.hidden"], "val_accuracy")
    assert table.loc[8].tolist() == [0.7, 0.6]
    assert table.loc[32, 0.01] == 0.9 and math.isnan(table.loc[32, 0.1])
    assert best == (0.01, 32)


def test_a_scale_ladder_spans_about_a_hundred_times_the_parameters(base):
    ladder = sweep.scale_ladder(base)
    spec = tasks.load(base.task).spec
    counts = [sweep.param_count(c, spec) for c in ladder]
    assert len(ladder) == sweep.SCALE_SIZES and counts == sorted(counts)
    assert 30 <= counts[-1] / counts[0] <= 300
    assert {(c.train.epochs, c.train.lr) for c in ladder} == {(base.train.epochs, base.train.lr)}


def table(*rows):
    return pd.DataFrame(rows, columns=["params", "metric", "seconds"])


def test_where_adding_parameters_stopped_paying():
    said = sweep.where_it_stopped(table((100, 0.80, 1.0), (1000, 0.95, 2.0), (10_000, 0.955, 4.0),
                                        (100_000, 0.956, 12.0)), "test_accuracy")
    assert (said["code"], said["params"], said["slower"]) == ("stopped", 1000, 6.0)


def test_a_ladder_whose_biggest_step_still_gains_says_so():
    said = sweep.where_it_stopped(table((100, 0.6, 1.0), (1000, 0.7, 2.0), (10_000, 0.8, 4.0)), "test_accuracy")
    assert said["code"] == "still_paying"


def test_nothing_is_said_until_every_size_has_its_result():
    assert sweep.where_it_stopped(table((100, 0.6, 1.0), (1000, None, None)), "test_accuracy") is None


def test_the_scale_table_orders_sizes_and_costs_each_in_seconds_per_epoch():
    runs = [SimpleNamespace(id=i, params=p, status="completed", metrics={"test_accuracy": a, "seconds": s, "epochs": e})
            for i, p, a, s, e in (("big", 9000, 0.9, 20.0, 4.0), ("small", 90, 0.7, 10.0, 10.0))]
    rows = sweep.scale_table(runs, "test_accuracy")
    assert rows[["run_id", "params", "metric", "seconds"]].values.tolist() == [["small", 90, 0.7, 1.0],
                                                                               ["big", 9000, 0.9, 5.0]]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("mode, start, label", [("sweep", "compare_sweep_start", {"en": "3 runs", "zh": "3 次"}),
                                                ("scale", "compare_scale_start", {"en": "5 sizes", "zh": "5 种"})])
def test_the_sweep_and_scale_modes_plan_their_runs_in_both_languages(app_resources, mode, start, label, lang):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../app_pages/compare.py", default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["compare_mode"] = mode
    at.run()
    assert not at.exception and not at.error
    assert label[lang] in at.button(key=start).label
