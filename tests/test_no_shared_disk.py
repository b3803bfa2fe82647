"""A room on a cluster that shares no disk: two Ray nodes, each started with its own MODELKIT_HOME
(tests/services.py), a PostgreSQL store, and this process as the dashboard with a third folder. An uploaded
CSV and the digits task train on both nodes; then both node folders (and this machine's cache) are deleted,
and every run still opens in Look inside, answers Try it, exports its whole bundle and serves."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from test_runner import ROOT, finished
from test_serve import call, start
from uploaded_files import plants_measured_csv

from modelkit import inside
from modelkit.config import make_config
from modelkit.data import uploads
from modelkit.execution.ray_executor import RayExecutor
from modelkit.execution.runner import Runner
from modelkit.store import Store
from modelkit.use import export, predict, serve

DIGITS = ["train.epochs=2", "model.channels=[8,16]", "model.head=32"]
TABLE = ["train.epochs=5"]


def trained_in_pairs(runner, configs: list) -> list:
    """Each pair given to the two idle actors at once (one a node), and waited for."""
    runs = []
    for pair in zip(configs[::2], configs[1::2]):
        run_ids = [runner.submit(config) for config in pair]
        runs += [finished(runner.store, run_id, 240) for run_id in run_ids]
    return runs


@pytest.fixture
def desk(tmp_path, monkeypatch, postgres_url):
    """The dashboard's machine: its own folder, the cluster's PostgreSQL store."""
    folder = tmp_path / "desk"
    monkeypatch.setenv("MODELKIT_HOME", str(folder))
    monkeypatch.setenv("MODELKIT_DB_URL", postgres_url)
    return Store()


def train_on_the_cluster(store, cluster, configs: list) -> list:
    runner = Runner(store, executor=RayExecutor(store, 2, address=cluster.address))
    try:
        assert runner.wait_ready(240), "the actors did not start"
        return trained_in_pairs(runner, configs)
    finally:
        runner.shutdown()


@pytest.mark.timeout(900)
def test_runs_trained_on_nodes_with_their_own_homes_are_used_from_a_third_once_both_are_deleted(
        desk, ray_cluster, tmp_path):
    ds = uploads.add_table(plants_measured_csv(), "plants.csv", target="kind")
    configs = [make_config(ds.task, "mlp", TABLE + [f"train.seed={i}"]) for i in range(2)]
    configs += [make_config("digits", "cnn", DIGITS + [f"train.seed={i}"]) for i in range(2)]
    runs = train_on_the_cluster(desk, ray_cluster, configs)
    assert [r.status for r in runs] == ["completed"] * 4
    assert len({r.node for r in runs[:2]}) == len({r.node for r in runs[2:]}) == 2   # each task on both nodes
    for home in ray_cluster.homes:   # each node read the dataset into its own cache, not the desk's
        assert any((home / "cache" / "blobs").iterdir())
    for folder in [*ray_cluster.homes, desk.home]:
        shutil.rmtree(folder)
    predict._CACHE.clear()   # as a fresh dashboard process would start

    for run in runs:
        look = inside.inspect_run(desk, run.id, 0)
        assert look["layers"]
        predictor = predict.load(desk, run.id)
        tried = predictor.predict(predict.example_inputs(predictor, 3))
        assert len(tried["labels"]) == 3
        folder = export.export_run(desk, run.id, tmp_path / "bundles" / run.id)
        assert set(export.BUNDLE_FILES) <= {p.name for p in folder.iterdir()}
        assert (folder / "data.npz").exists() == (run.task == ds.task)   # the uploaded table travels along
        url, _, stop = start(desk, run.id)
        try:
            status, served = call(url + "/predict", serve.example_body(predictor))
        finally:
            stop()
        assert status == 200 and served["predictions"]
    # and the CLI, from a folder of its own
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MODELKIT_HOME": str(tmp_path / "cli")}
    done = subprocess.run([sys.executable, "-m", "modelkit", "export", runs[0].id, "--out", str(tmp_path / "cli-out")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "cli-out" / "config.json").read_text())["task"]["name"] == ds.task
    assert (tmp_path / "cli-out" / "data.npz").exists() and any((tmp_path / "cli" / "cache" / "blobs").iterdir())
