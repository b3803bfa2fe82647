"""export and codegen: the take-home bundle works without modelkit, and its ONNX and PyTorch models agree."""
import json
import os
import subprocess
import sys
import zipfile
from io import BytesIO

import numpy as np
import pytest
import torch
from trained import SMALL_TEXT, train_tiny

from modelkit import models
from modelkit.cli import main
from modelkit.config import make_config
from modelkit.data import tasks
from modelkit.store import Store
from modelkit.use import codegen, export

FAMILIES = [("digits", "mlp"), ("digits", "cnn"), ("mnist1d", "gru"), ("text", "transformer")]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return Store(home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def bundles(store, tmp_path_factory):
    """(task, arch) -> (run id, bundle folder), trained and exported once for this file."""
    out = {}
    for task, arch in FAMILIES:
        run_id = train_tiny(store, task, arch)
        out[task, arch] = run_id, export.export_run(store, run_id, tmp_path_factory.mktemp(arch) / "bundle")
    return out


def without_modelkit(folder, *args, timeout=300):
    """python -I ARGS in the bundle folder: no PYTHONPATH, no user site, so modelkit is not importable."""
    return subprocess.run([sys.executable, "-I", *args], cwd=folder, capture_output=True, text=True,
                          timeout=timeout, env={"PATH": os.environ["PATH"], "HOME": str(folder)})


def test_the_bundle_holds_every_file(bundles):
    _, folder = bundles["digits", "cnn"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(export.BUNDLE_FILES)


def test_modelkit_is_not_importable_where_the_bundle_is_checked(bundles):
    _, folder = bundles["digits", "cnn"]
    assert without_modelkit(folder, "-c", "import modelkit").returncode != 0


@pytest.mark.timeout(300)
@pytest.mark.parametrize("family", FAMILIES, ids=[arch for _, arch in FAMILIES])
def test_train_py_evaluate_prints_the_stored_test_metrics_without_modelkit(store, bundles, family):
    run_id, folder = bundles[family]
    done = without_modelkit(folder, "train.py", "--evaluate")
    assert done.returncode == 0, done.stderr[-2000:]
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    stored = store.get_run(run_id).metrics
    key = "test_perplexity" if family[0] == "text" else "test_accuracy"
    assert printed[key] == pytest.approx(stored[key], abs=0.005)
    assert printed["test_loss"] == pytest.approx(stored["test_loss"], rel=1e-4)


@pytest.mark.timeout(300)
def test_train_py_trains_from_scratch_and_saves_weights_that_evaluate(store, bundles):
    run_id, folder = bundles["digits", "mlp"]
    done = without_modelkit(folder, "train.py")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "epoch 2" in done.stdout and (folder / "trained.safetensors").exists()
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert printed["test_accuracy"] == pytest.approx(store.get_run(run_id).metrics["test_accuracy"], abs=0.05)


@pytest.mark.parametrize("family", FAMILIES, ids=[arch for _, arch in FAMILIES])
def test_the_onnx_model_answers_like_pytorch(store, bundles, family):
    import onnxruntime

    from modelkit.use import predict

    run_id, folder = bundles[family]
    predictor = predict.load(store, run_id)
    x = tasks.load(predictor.config.task).x_test[:7]
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"))
    got = session.run(None, {"inputs": x.numpy()})[0]
    expected = predictor.model(x).detach().numpy()
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-4


def test_the_model_card_speaks_the_participants_language(store, bundles, tmp_path):
    run_id, _ = bundles["digits", "cnn"]
    card = (export.export_run(store, run_id, tmp_path / "zh", lang="zh") / "README.md").read_text(encoding="utf-8")
    assert "手写数字" in card and "测试准确率" in card and "python train.py --evaluate" in card


def test_the_download_zip_holds_the_same_files_in_one_folder(store, bundles):
    run_id, _ = bundles["digits", "cnn"]
    names = zipfile.ZipFile(BytesIO(export.bundle_zip(store, run_id))).namelist()
    assert sorted(names) == sorted(f"modelkit-{run_id}/{n}" for n in export.BUNDLE_FILES)


def test_the_export_command_writes_the_bundle(store, bundles, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODELKIT_HOME", str(store.home))
    run_id, _ = bundles["digits", "cnn"]
    assert main(["export", run_id, "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "model.onnx").exists() and "model.onnx" in capsys.readouterr().out


def test_an_export_that_breaks_says_so_and_not_that_the_run_failed(store, bundles, tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setenv("MODELKIT_HOME", str(store.home))
    run_id, _ = bundles["digits", "cnn"]

    def broken_exporter(*args, **kwargs):
        raise RuntimeError("no exporter here")

    monkeypatch.setattr(torch.onnx, "export", broken_exporter)
    assert main(["export", run_id, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: the export of run {run_id} failed") and "the run failed" not in err
    assert store.get_run(run_id).status == "completed"
    assert {"train.py", "README.md", "config.json"} <= {p.name for p in (tmp_path / "out").iterdir()}


def test_exporting_a_run_without_weights_fails_in_one_line(capsys):
    run_id = Store().create_run(make_config("moons", "mlp"))
    assert main(["export", run_id]) == 1
    assert capsys.readouterr().err.strip() == f"error: run {run_id} has no trained weights " \
                                              "(it has not finished, or it failed)"


SOURCES = [("moons", "linear", []), ("text", "linear", []), ("digits", "mlp", ["model.batch_norm=true"]),
           ("mnist1d", "cnn", []), ("sine", "cnn", ['model.pooling="none"', "model.head=8"]),
           ("digits", "rnn", ['model.pooling="mean"']),
           ("sine", "lstm", ["model.bidirectional=true", "model.layers=2"]),
           ("text", "gru", []), ("digits", "transformer", ['model.positional="sinusoidal"']),
           ("sine", "transformer", []), ("text", "transformer", [])]


@pytest.mark.parametrize("task, arch, sets", SOURCES, ids=[f"{t}-{a}" for t, a, _ in SOURCES])
def test_the_generated_model_source_loads_the_weights_and_answers_alike(task, arch, sets):
    base = {"task": {"text": SMALL_TEXT, "seq_len": 16}} if task == "text" else None
    config = make_config(task, arch, sets, base)
    data = tasks.load(config.task)
    model = models.build(config.model, data.spec).eval()
    namespace = {}
    exec(compile("import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
                 + codegen.model_source(config, data.spec), "generated", "exec"), namespace)
    generated = namespace[codegen.model_class_name(config, data.spec)]()
    generated.load_state_dict(model.state_dict())          # strict: the same layers under the same names
    x = data.x_test[:4]
    assert torch.allclose(generated.eval()(x), model(x), atol=1e-6)


def test_a_tables_onnx_model_takes_raw_rows_in_their_own_units(store, tmp_path):
    import onnxruntime
    from uploaded_files import plants_measured_csv, plants_rows

    from modelkit.data import uploads
    from modelkit.use import predict

    ds = uploads.add_table(plants_measured_csv(), "plants.csv", target="kind")
    run_id = train_tiny(store, ds.task, "mlp", ["train.epochs=5"])
    folder = export.export_run(store, run_id, tmp_path / "bundle")
    rows = plants_rows(20, seed=3)[0].astype(np.float32)
    got = onnxruntime.InferenceSession(str(folder / "model.onnx")).run(None, {"inputs": rows})[0]
    expected = np.array(predict.load(store, run_id).predict(rows)["probabilities"])
    assert np.abs(torch.tensor(got).softmax(-1).numpy() - expected).max() < 1e-4
    assert "pip install 'torch>=2.4,<2.14' numpy onnxruntime" in (folder / "README.md").read_text(encoding="utf-8")


def held_back_run(store, task: str) -> str:
    """A finished run of a held-back challenge on `task` (its hidden test a fifth of the rows), by ana."""
    import dataclasses

    from modelkit import room
    from modelkit.execution.worker import execute_run

    made = store.get_challenge(room.create_challenge(store, task=task, archs=["mlp"], budget=20, locked=[],
                                                     hidden="held_back"))
    config = room.challenge_config(made)
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, epochs=3))
    run_id = store.create_run(config, owner="ana", queued=False, challenge=made.id)
    assert execute_run(store, run_id).status == "completed"
    return run_id


def assert_same_split_and_score(store, run_id: str, folder):
    """The bundle's train.py splits into the run's own rows, in its order, and tests its weights alike."""
    from modelkit.config import RunConfig

    done = without_modelkit(folder, "-c", "import sys; sys.path.insert(0, '.'); import json, train; "
                                          "print(json.dumps([p[0].tolist() for p in train.load_data()]))")
    assert done.returncode == 0, done.stderr[-2000:]
    script_parts = json.loads(done.stdout.strip().splitlines()[-1])
    data = tasks.load(RunConfig.from_dict(store.get_run(run_id).config).task)
    assert [len(p) for p in script_parts] == [len(data.x_train), len(data.x_val), len(data.x_test)]
    for script_x, run_x in zip(script_parts, (data.x_train, data.x_val, data.x_test)):
        assert torch.allclose(torch.tensor(script_x), run_x, atol=1e-5)   # the same rows, in the same order
    evaluated = without_modelkit(folder, "train.py", "--evaluate")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    printed = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert printed["test_accuracy"] == pytest.approx(store.get_run(run_id).metrics["test_accuracy"], abs=1e-6)
    return script_parts


@pytest.mark.timeout(300)
def test_train_py_of_a_held_back_challenge_run_leaves_out_the_same_rows(store, tmp_path):
    run_id = held_back_run(store, "iris")
    script_parts = assert_same_split_and_score(store, run_id, export.export_run(store, run_id, tmp_path / "bundle"))
    assert sum(map(len, script_parts)) == 150 - 30   # iris's 150 rows, HOLDOUT of them held back


@pytest.mark.timeout(300)
def test_the_bundle_of_a_held_back_run_on_an_upload_carries_no_hidden_row(store, tmp_path):
    from uploaded_files import plants_measured_csv

    from modelkit.config import RunConfig
    from modelkit.data import uploads
    from modelkit.room import hidden

    ds = uploads.add_table(plants_measured_csv(), "plants.csv", target="kind")
    run_id = held_back_run(store, ds.task)
    folder = export.export_run(store, run_id, tmp_path / "bundle")
    with np.load(folder / "data.npz") as f:
        bundled = {row.tobytes() for row in f["x"]}
    config = RunConfig.from_dict(store.get_run(run_id).config)
    scored = tasks.in_own_units(tasks.load(config.task), hidden.hidden_rows(config)[0]).numpy()   # the hidden test
    raw = uploads.arrays(ds)["x"]
    hidden_rows = raw[np.abs(raw[None] - scored[:, None]).max(-1).argmin(1)]   # each one's row in the file
    assert (len(bundled), len(hidden_rows)) == (400 - 80, 80)
    assert not {row.tobytes() for row in hidden_rows} & bundled
    assert_same_split_and_score(store, run_id, folder)
