"""Uploaded time series: read at regular steps, split by time, scaled on the training part, forecast
better than the naive forecast; the series the tests make themselves (tests/series_data.py)."""
import json

import numpy as np
import pandas as pd
import pytest
from series_data import csv, leading_pair, seasonal_frame

from modelkit import models
from modelkit.cli import main
from modelkit.config import ConfigError, make_config
from modelkit.data import forecast, series, tasks, uploads
from modelkit.training.loop import run


def stored(frame, targets=("load",), inputs=(), name="load.csv"):
    return series.add_series(csv(frame), name, list(targets), list(inputs))


def test_the_last_part_of_the_series_is_the_test_set_in_time_order():
    ds = stored(seasonal_frame(400))
    arrays = forecast.windows(ds, window=24, horizon=4, val_fraction=0.15, test_fraction=0.2)
    cut_val, cut_test = arrays["cuts"]
    assert cut_test == 400 - 80 and cut_val == 400 - 80 - 60
    assert np.all(np.diff(arrays["at_test"]) == 1) and np.all(np.diff(arrays["at_train"]) == 1)   # never shuffled
    assert arrays["at_train"].max() + 4 < cut_val                  # training forecasts end before validation
    assert arrays["at_val"].min() + 1 >= cut_val and arrays["at_val"].max() + 4 < cut_test
    assert arrays["at_test"].min() + 1 == cut_test and arrays["at_test"].max() + 4 == 399


def test_the_test_targets_are_the_series_own_values_after_each_window():
    frame = seasonal_frame(400)
    ds = stored(frame)
    arrays = forecast.windows(ds, window=24, horizon=4, val_fraction=0.15, test_fraction=0.2)
    back = forecast.from_model(arrays["y_test"], arrays["last_test"], arrays["scale"])[:, :, 0]   # own units
    at = arrays["at_test"][5]
    assert np.allclose(back[5], frame["load"].to_numpy()[at + 1:at + 5], atol=1e-4)


def test_scaling_comes_from_the_training_part_alone():
    frame = seasonal_frame(400)
    wild = frame.copy()
    wild.loc[300:, "load"] *= 100                                 # only validation and test change
    a = forecast.windows(stored(frame), 24, 4, 0.15, 0.2)
    b = forecast.windows(stored(wild, name="wild.csv"), 24, 4, 0.15, 0.2)
    assert a["scale"]["mean"] == b["scale"]["mean"] and a["scale"]["std"] == b["scale"]["std"]
    assert np.array_equal(a["x_train"], b["x_train"]) and np.array_equal(a["y_train"], b["y_train"])
    assert not np.array_equal(a["y_test"], b["y_test"])


def test_the_season_of_the_training_part_is_found():
    arrays = forecast.windows(stored(seasonal_frame(600, period=24)), 48, 6, 0.15, 0.2)
    assert arrays["baselines"]["seasonal_period"] == 24


def test_noise_alone_has_no_season():
    rng = np.random.default_rng(3)
    assert forecast.period(rng.normal(size=500)) is None


def test_a_gru_beats_the_naive_forecast_clearly_on_a_seasonal_signal():
    ds = stored(seasonal_frame(600, period=24))
    result, _ = run(make_config(ds.task, "gru", ["task.seq_len=48", "task.horizon=6", "train.epochs=15",
                                                 "model.hidden_size=32", "model.patch=4"]))   # 12 steps of 4 values
    m = result.metrics
    assert result.status == "completed"
    assert m["test_mse"] < 0.5 * m["baseline_mse"]
    assert m["test_mse"] < m["seasonal_mse"]


def test_the_linear_baseline_and_the_naive_forecast_are_reported():
    ds = stored(seasonal_frame(600, period=24))
    result, _ = run(make_config(ds.task, "linear", ["task.seq_len=48", "task.horizon=6"]))
    m = result.metrics
    assert {"test_mse", "test_mae", "test_r2", "baseline_mse", "baseline_mae", "seasonal_mse"} <= set(m)
    assert m["test_mse"] < m["baseline_mse"]
    drawn = result.details["forecast"]
    assert drawn["test_start"] == 600 - 120 and len(drawn["paths"]) > 1 and len(drawn["paths"][0]["pred"]) == 6


def test_a_signal_that_leads_another_helps_forecast_it():
    frame = leading_pair(800, lead=6)
    alone = stored(frame, targets=("follower",), name="pair.csv")
    helped = stored(frame, targets=("follower",), inputs=("leader",), name="pair.csv")
    sets = ["task.seq_len=12", "task.horizon=4"]
    without, _ = run(make_config(alone.task, "linear", sets))
    with_lead, _ = run(make_config(helped.task, "linear", sets))
    assert tasks.load(make_config(helped.task, "linear", sets).task).spec.input_shape == (12, 2)
    assert with_lead.metrics["test_mse"] < 0.5 * without.metrics["test_mse"]


def test_empty_cells_and_missing_steps_are_interpolated_and_counted():
    frame = seasonal_frame(200)
    frame.loc[[10, 11, 50], "load"] = np.nan
    frame.loc[70, "load"] = np.inf                                 # a broken reading counts as a gap
    frame = frame.drop(index=[100, 101, 102])                      # three hours the log left out
    found = series.read_series(frame, "gaps.csv")
    assert len(found.values) == 200 and found.missing_steps == 3 and found.filled == 7
    values = found.values["load"].to_numpy()
    assert values[50] == pytest.approx((values[49] + values[51]) / 2)
    assert not np.isnan(values).any()


def test_irregular_timestamps_are_resampled_to_the_usual_step():
    frame = seasonal_frame(300)
    rng = np.random.default_rng(1)
    times = pd.to_datetime(frame["date"]) + pd.to_timedelta(rng.uniform(-20, 20, len(frame)), unit="min")
    frame["date"] = times.astype(str)
    found = series.read_series(frame, "jitter.csv")
    assert found.resampled and found.step == "1 hours"
    assert abs(len(found.values) - 300) <= 1


def test_rows_in_order_without_a_time_column_are_a_series():
    frame = seasonal_frame(100).drop(columns="date")
    assert series.looks_like_series(frame) and series.time_column(frame) is None
    assert not series.guess_series(frame)
    assert series.guess_series(seasonal_frame(100))


@pytest.mark.parametrize("change, code", [
    (lambda f: f.assign(date=[f["date"][0]] * 2 + list(f["date"][2:])), "data_series_same_time"),
    (lambda f: f.assign(date=list(f["date"][:-1]) + ["2030-01-01 00:00:00"]), "data_series_sparse"),
])
def test_timestamps_that_cannot_be_steps_are_refused_in_plain_words(change, code):
    with pytest.raises(ConfigError) as err:
        series.read_series(change(seasonal_frame(100)), "bad.csv")
    assert err.value.code == code and "bad.csv" in err.value.message


def test_a_window_too_long_for_the_series_is_refused_under_its_field():
    ds = stored(seasonal_frame(100))
    with pytest.raises(ConfigError) as err:
        make_config(ds.task, "gru", ["task.seq_len=90"])
    assert err.value.path == "task.seq_len" and err.value.code == "data_series_short"


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru", "cnn", "transformer", "mlp", "linear"])
def test_every_sequence_architecture_reads_windows_of_several_columns(arch):
    ds = stored(leading_pair(300, lead=3), targets=("follower",), inputs=("leader",), name="pair.csv")
    config = make_config(ds.task, arch, ["task.seq_len=16", "task.horizon=3"])
    data = tasks.load(config.task)
    out = models.build(config.model, data.spec)(data.x_test[:5])
    assert tuple(out.shape) == (5, 3)


def test_the_cli_trains_a_forecast_and_prints_its_metrics_with_the_naive_one(tmp_path, capsys):
    path = tmp_path / "load.csv"
    path.write_bytes(csv(seasonal_frame(300)))
    code = main(["train", "--data", str(path), "--kind", "forecast", "--target", "load", "--window", "24",
                 "--horizon", "3", "--arch", "linear", "--epochs", "5", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and out["status"] == "completed"
    assert {"test_mse", "test_mae", "test_r2", "baseline_mse"} <= set(out["metrics"])
    ds = uploads.list_datasets()[0]
    assert ds.kind == "series" and ds.series["targets"] == ["load"]
