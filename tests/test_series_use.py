"""A forecast in use: Try it, the service and the take-home bundle take a window in the series' own units
and answer in them."""
import json

import numpy as np
import pytest
from series_data import csv, seasonal_frame
from test_export import without_modelkit

from modelkit.config import make_config
from modelkit.data import forecast, series, tasks
from modelkit.execution.worker import execute_run
from modelkit.store import Store
from modelkit.use import export, predict


@pytest.fixture
def trained(tmp_path):
    """A store and a finished linear forecast of an hourly load, 6 steps ahead."""
    store = Store(home=tmp_path / "store")   # first: the upload is kept in the store it opened
    ds = series.add_series(csv(seasonal_frame(400)), "load.csv", ["load"])
    config = make_config(ds.task, "linear", ["task.seq_len=48", "task.horizon=6", "train.epochs=30"])
    run_id = store.create_run(config, owner="test", queued=False)
    assert execute_run(store, run_id).status == "completed"
    return store, run_id, config


def test_a_window_in_own_units_gets_the_forecast_the_results_drew(trained):
    store, run_id, config = trained
    predictor = predict.load(store, run_id)
    window = predict.example_inputs(predictor, 1)[0]
    arrays = tasks.load(config.task).extra["series"]
    assert np.allclose(window, forecast.test_window(arrays, 0)[0][:, 0])     # the load itself, not scaled
    answer = predictor.predict([window])["predictions"][0]
    drawn = store.get_run(run_id).details["forecast"]["one_step"]["pred"][0]
    assert len(answer) == 6 and answer[0] == pytest.approx(drawn, rel=1e-3)


def test_raising_the_whole_window_raises_the_forecast_by_as_much(trained):
    store, run_id, _ = trained
    predictor = predict.load(store, run_id)
    window = np.asarray(predict.example_inputs(predictor, 1)[0])
    low, high = predictor.predict([window.tolist(), (window + 100).tolist()])["predictions"]
    assert np.allclose(np.asarray(high) - np.asarray(low), 100, atol=1e-2)


def test_the_bundle_retrains_and_evaluates_the_series_without_modelkit(trained, tmp_path):
    store, run_id, _ = trained
    folder = export.export_run(store, run_id, tmp_path / "bundle")
    scale = json.loads((folder / "series.json").read_text(encoding="utf-8"))
    assert scale["names"] == ["load"] and (folder / "data.npz").exists()
    done = without_modelkit(folder, "train.py", "--evaluate")
    assert done.returncode == 0, done.stderr[-2000:]
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert printed["test_mse"] == pytest.approx(store.get_run(run_id).metrics["test_mse"], rel=1e-3)


def test_look_inside_shows_a_gru_hidden_state_at_every_step_of_two_columns(tmp_path):
    from series_data import leading_pair

    from modelkit import inside

    store = Store(home=tmp_path / "store")
    ds = series.add_series(csv(leading_pair(300, lead=3)), "pair.csv", ["follower"], ["leader"])
    config = make_config(ds.task, "gru", ["task.seq_len=16", "task.horizon=3", "train.epochs=1",
                                          "model.hidden_size=8"])
    run_id = store.create_run(config, owner="test", queued=False)
    assert execute_run(store, run_id).status == "completed"
    look = inside.rnn(inside.load(store, run_id), 0)
    assert look["hidden"].shape == (16, 8) and look["steps"].shape == (16, 2)   # one step: both columns
