"""The journey matrix: for every kind of run the dashboard makes, with each architecture that fits it, a
short real run through the runner and the store, then every section a finished run offers.

Sections: the run's page (results, Replay, Look inside with every tab, Try it, Show the code), the room's
gallery (its card and the same Try it, opened by someone else), Try it on a
raw input in the user's own units, the export bundle (every file; `python train.py --evaluate` in a fresh
virtual environment holding only what the bundle's README installs prints the stored metrics; the ONNX
model answers like PyTorch), the service (the same raw input, the same answer), Re-run (the same
configuration exactly) and Replay. What does not apply to a kind is declared on its task registry entry
(modelkit.data.tasks.TaskInfo.skips), never skipped here.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from modelkit import models
from modelkit.config import RunConfig, make_config
from modelkit.data import series, tasks, uploads
from modelkit.store import Store
from modelkit.use import codegen, export, predict, script_writer

pytestmark = [pytest.mark.learning, pytest.mark.timeout(1800)]   # the first one also makes the bundle venv

SHORT = ["train.epochs=1", "train.time_budget=3"]
TEXT = ["task.seq_len=16", "train.epochs=null", "train.time_budget=3", "train.eval_every=0"]


def upload(kind: str) -> str:
    """The task name of a dataset uploaded as a person would upload it (tests/uploaded_files.py)."""
    import uploaded_files as files

    if kind == "csv_classes":
        return uploads.add_table(files.plants_with_soil_csv(), "plants.csv", target="kind").task   # a text column too
    if kind == "csv_number":
        return uploads.add_table(files.line_measured_csv(), "line.csv", target="yield").task
    if kind == "image_zip":
        return uploads.add_images(files.digits_folder_zip(per_class=15), "digits.zip").task
    if kind == "series_upload":
        from series_data import csv, seasonal_frame

        return series.add_series(csv(seasonal_frame(300)), "load.csv", ["load"]).task
    return uploads.add_text(files.story_text(), "story.txt").task


# kind -> (task name or an upload kind, settings)
KINDS = {
    "toy": ("moons", ["task.n_samples=200", *SHORT]),
    "table": ("iris", SHORT),
    "csv_classes": ("csv_classes", SHORT),
    "csv_number": ("csv_number", SHORT),
    "digits": ("digits", SHORT),
    "image_zip": ("image_zip", SHORT),
    "mnist1d": ("mnist1d", SHORT),
    "sine": ("sine", ["task.n_samples=200", *SHORT]),
    "text": ("text", TEXT),
    "text_upload": ("text_upload", TEXT),
    "text_zh": ("text", ["task.corpus=zh", *TEXT]),
    "series_upload": ("series_upload", ["task.seq_len=24", "task.horizon=3", *SHORT]),
}
UPLOADS = ("csv_classes", "csv_number", "image_zip", "text_upload", "series_upload")
ARCHS_OF = {"toy": "moons", "table": "iris", "csv_classes": "iris", "csv_number": "iris", "digits": "digits",
            "image_zip": "digits", "mnist1d": "mnist1d", "sine": "sine", "text": "text", "text_upload": "text",
            "text_zh": "text", "series_upload": "sine"}   # a built-in task of the same input kind, to list the architectures that fit
JOURNEYS = [(kind, arch) for kind in KINDS for arch in models.archs_for(ARCHS_OF[kind])]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("journeys")
    old = os.environ.get("MODELKIT_HOME")
    os.environ["MODELKIT_HOME"] = str(path)
    yield path
    if old is None:
        os.environ.pop("MODELKIT_HOME", None)
    else:
        os.environ["MODELKIT_HOME"] = old


@pytest.fixture(autouse=True)
def _isolated_home(home, monkeypatch):
    """One home for the whole matrix (conftest's per-test home would hide the shared runner's runs)."""
    monkeypatch.setenv("MODELKIT_HOME", str(home))


@pytest.fixture(scope="module")
def runner(home):
    from modelkit.execution.runner import Runner

    runner = Runner(Store(home=home), workers=2)
    yield runner
    runner.shutdown()


@pytest.fixture(scope="session")
def bundle_python(tmp_path_factory):
    """A fresh virtual environment, shared by the session, that installs what a bundle's README says.

    MODELKIT_TEST_BUNDLE_VENV names a folder to keep it in between local runs (installing torch takes
    minutes); it is still made with nothing but what the READMEs install."""
    kept = os.environ.get("MODELKIT_TEST_BUNDLE_VENV")
    venv = Path(kept) if kept else tmp_path_factory.mktemp("bundle-venv") / "venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed: set[str] = set()

    def python_for(readme: str) -> str:
        line = next(line for line in readme.splitlines() if line.startswith("pip install "))
        wanted = set(shlex.split(line)[2:]) - installed
        if wanted:
            done = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", *sorted(wanted)],
                                  capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stderr[-2000:]
            installed.update(wanted)
        return str(venv / "bin" / "python")
    return python_for


def train(runner, kind: str, arch: str):
    task, sets = KINDS[kind]
    if kind in UPLOADS:
        task = upload(task)
    run_id = runner.submit(make_config(task, arch, sets), owner="journey")
    deadline = time.monotonic() + 600
    while (run := runner.store.get_run(run_id)).active:
        assert time.monotonic() < deadline, f"{kind}/{arch} never finished"
        time.sleep(0.2)
    assert run.status == "completed", run.message
    return run


@pytest.mark.parametrize("kind, arch", JOURNEYS, ids=[f"{k}-{a}" for k, a in JOURNEYS])
def test_every_section_of_a_finished_run_works(runner, bundle_python, tmp_path, kind, arch):
    run = train(runner, kind, arch)
    config = RunConfig.from_dict(run.config)
    info = tasks.task_info(config.task.name)
    the_page_draws_every_section(run, config)
    the_gallery_opens_it(run)
    predictor = predict.load(runner.store, run.id)
    raw = raw_inputs(predictor)
    answer = try_it(predictor, raw)
    the_code_compiles(config)
    the_bundle_works(runner.store, run, predictor, raw, bundle_python, tmp_path)
    the_same_answer(the_service_answers(runner.store, run.id, predictor, raw), answer)
    a_rerun_has_the_same_configuration(runner, run)
    the_replay_has_its_frames(runner.store, run, info)


def the_page_draws_every_section(run, config):
    """The finished run's panel (results, Replay, Look inside in every tab that applies, Try it, Show the
    code) drawn by Streamlit, with no exception and every Look-inside tab there."""
    from streamlit.testing.v1 import AppTest

    def panel(run_id):
        import streamlit as st

        from modelkit.ui import run_view

        st.session_state["lang"] = "en"
        run_view.panel(run_id, "journey")

    at = AppTest.from_function(panel, args=(run.id,), default_timeout=300).run()
    assert not at.exception, at.exception
    from modelkit.inside import load
    from modelkit.ui.inside_view import parts_for

    assert len(at.tabs) >= len(parts_for(load(Store(), run.id)))
    assert at.code, "Show the code drew no code"


def the_gallery_opens_it(run):
    """Shared to the room's gallery by its owner, the run is opened there with its card and Try it, the
    Train page's own view for its kind (modelkit.ui.use.try_it), and no exception."""
    from streamlit.testing.v1 import AppTest

    from modelkit.room import gallery

    gallery.share(Store(), run.id, by=run.owner, name="journey")

    def shelf():
        import streamlit as st

        from modelkit.ui import gallery_view

        st.session_state["lang"] = "en"
        gallery_view.shelf()

    at = AppTest.from_function(shelf, default_timeout=300).run()
    assert not at.exception, at.exception
    assert any(h.value == "Try it" for h in at.subheader), "the gallery drew no Try it"
    gallery.withdraw(Store(), run.id, by=run.owner)


def raw_inputs(predictor) -> list:
    """Inputs as a person has them: a point of the chart, a row in its own units, an image, a signal, a prompt."""
    return predict.example_inputs(predictor, 3)


def try_it(predictor, raw) -> dict:
    if predictor.kind == "lm":
        out = {"generated": [predictor.generate(p, 20, 0.8, 0) for p in raw]}
        assert all(len(g) == len(p) + 20 for g, p in zip(out["generated"], raw))
        return out
    out = predictor.predict(raw)
    assert len(out["predictions"]) == len(raw)
    return out


def the_code_compiles(config):
    compile(codegen.script_source(config), "train.py", "exec")


def the_bundle_works(store, run, predictor, raw, bundle_python, tmp_path):
    folder = export.export_run(store, run.id, tmp_path / "bundle")
    assert set(export.BUNDLE_FILES) <= {p.name for p in folder.iterdir()}
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert script_writer.install_command(run.task) in readme
    done = subprocess.run([bundle_python(readme), "-I", "train.py", "--evaluate"], cwd=folder, capture_output=True,
                          text=True, timeout=600, env={"PATH": os.environ["PATH"], "HOME": str(folder)})
    assert done.returncode == 0, done.stderr[-2000:]
    printed, stored = json.loads(done.stdout.strip().splitlines()[-1]), store.get_run(run.id).metrics
    assert printed["test_loss"] == pytest.approx(stored["test_loss"], rel=1e-3, abs=1e-4)
    for key in ("test_accuracy", "test_r2", "test_perplexity"):
        if key in stored:
            assert printed[key] == pytest.approx(stored[key], rel=1e-3, abs=0.005)
    the_onnx_model_answers_like_pytorch(folder, predictor, raw)


def the_onnx_model_answers_like_pytorch(folder, predictor, raw):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(folder / "model.onnx"))
    if predictor.kind == "lm":
        x = torch.tensor([predictor.encode(p) for p in raw])
        expected = predictor.model(x).detach().numpy()
        got = session.run(None, {"inputs": x.numpy()})[0]
    else:
        numbers = predictor.numbers(raw)   # the graph takes numbers in own units: a text column one-hot
        got = session.run(None, {"inputs": np.asarray(numbers, dtype=np.float32).reshape(len(raw),
                                                                                       *predictor.spec.input_shape)})[0]
        expected = predictor.model(predictor.tensor(raw)).detach().numpy()
    assert np.abs(got - expected).max() < 1e-4


def the_service_answers(store, run_id, predictor, raw) -> dict:
    from test_serve import call, start

    url, _, stop = start(store, run_id)
    try:
        body = {"inputs": raw, "length": 20, "temperature": 0.8, "seed": 0} if predictor.kind == "lm" else \
            {"inputs": raw}
        status, out = call(url + "/predict", body)
    finally:
        stop()
    assert status == 200, out
    return out


def the_same_answer(got: dict, want: dict):
    """The same labels and text exactly; the same numbers to their last rounded digit (the service's
    process may sum a matrix product in another order, which can move the sixth decimal)."""
    assert got.keys() == want.keys()
    for key, value in want.items():
        if key in ("predictions", "probabilities") and np.asarray(value).dtype.kind == "f":
            np.testing.assert_allclose(np.asarray(got[key]), np.asarray(value), rtol=1e-4, atol=2e-6, err_msg=key)
        else:
            assert got[key] == value, key


def a_rerun_has_the_same_configuration(runner, run):
    again = runner.rerun(run.id)
    runner.stop(again)
    assert runner.store.get_run(again).config == run.config


def the_replay_has_its_frames(store, run, info):
    assert len(store.points(run.id)), "no curve to replay"
    if "replay_boundary" not in info.skips:
        assert store.snapshots(run.id), "no decision boundary to replay"
