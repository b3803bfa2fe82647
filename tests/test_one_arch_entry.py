"""An architecture registered in one place, its models.ARCHS entry, is offered everywhere: the CLI
(archs, settings, train), the Train form, the code view, the exported train.py (which runs), Look
inside, Compare and the scale ladder. Nothing here is known to modelkit but through that entry."""
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest
import torch
import torch.nn as nn
from streamlit.testing.v1 import AppTest

from modelkit import inside, models
from modelkit.cli import main
from modelkit.compare import sweep
from modelkit.config import make_config
from modelkit.execution.worker import execute_run
from modelkit.fields import option
from modelkit.models import Family
from modelkit.store import Store
from modelkit.use import codegen, export


@dataclass
class TinyConfig:
    arch: str = option("tiny", choices=("tiny",))
    width: int = option(16, low=2, high=4096)   # units of the one hidden layer


class Tiny(nn.Module):
    """One hidden layer of `width` units."""

    def __init__(self, cfg: TinyConfig, spec):
        super().__init__()
        self.flatten = nn.Flatten()
        self.hidden = nn.Linear(math.prod(spec.input_shape), cfg.width)
        self.out = nn.Linear(cfg.width, spec.n_outputs)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(self.flatten(x))))


def tiny_source(cfg, spec, built) -> str:
    return f'''
class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.hidden = nn.Linear({built.hidden.in_features}, {cfg.width})
        self.out = nn.Linear({cfg.width}, {spec.n_outputs})

    def forward(self, x):
        return self.out(torch.relu(self.hidden(self.flatten(x))))
'''


TINY = Family("tiny", TinyConfig, Tiny, ("vector", "image"), tiny_source,
              sizes={"digits": {"width": 24}}, training={"*": {"epochs": 2}}, scale="width")


@pytest.fixture(scope="module", autouse=True)
def registered():
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(models.ARCHS, "tiny", TINY)
        yield


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A store holding one finished digits run of the tiny architecture, and its id."""
    store = Store(home=tmp_path_factory.mktemp("home"))
    run_id = store.create_run(make_config("digits", "tiny"), owner="test", queued=False)
    assert execute_run(store, run_id).status == "completed"
    return store, run_id


def test_its_entry_gives_the_defaults_per_task():
    config = make_config("digits", "tiny")
    assert config.model.width == TINY.sizes["digits"]["width"]
    assert config.train.epochs == TINY.training["*"]["epochs"]
    assert make_config("moons", "tiny").model.width == TinyConfig().width


def test_the_cli_lists_it_with_the_tasks_it_fits(capsys):
    assert main(["archs"]) == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith("tiny "))
    assert "digits" in line and "moons" in line and "text" not in line


def test_the_cli_lists_its_settings(capsys):
    assert main(["settings", "--arch", "tiny", "--section", "model"]) == 0
    assert "model.width = 16" in capsys.readouterr().out


def test_the_cli_trains_it(capsys):
    from modelkit.data import tasks

    assert main(["train", "--task", "moons", "--arch", "tiny", "--epochs", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    config = make_config("moons", "tiny")
    assert out["status"] == "completed"
    assert out["params"] == models.count_params(models.build(config.model, tasks.load(config.task).spec))


@pytest.mark.usefixtures("app_resources")
def test_the_train_form_offers_it_with_its_own_settings():
    at = AppTest.from_file("../app_pages/train.py", default_timeout=120)
    at.session_state["lang"], at.session_state["participant"] = "en", ""
    at.run()
    assert "arch.tiny.title" in at.selectbox(key="train_arch").options   # its words: not in the translations
    at.selectbox(key="train_arch").set_value("tiny").run()
    assert at.selectbox(key="train_arch").value == "tiny"
    assert at.number_input(key="train_model_width").value == TinyConfig().width
    assert not at.exception


@pytest.mark.usefixtures("app_resources")
def test_compare_offers_it():
    at = AppTest.from_file("../app_pages/compare.py", default_timeout=120)
    at.session_state["lang"], at.session_state["participant"] = "en", "Ada"
    at.run()
    assert "arch.tiny.title" in at.multiselect(key="compare_archs").options
    assert not at.exception


def test_the_scale_ladder_grows_its_scale_setting():
    assert "tiny" in models.scalable()
    ladder = sweep.scale_ladder(make_config("digits", "tiny"))
    widths = [c.model.width for c in ladder]
    assert len(widths) >= 4 and widths == sorted(set(widths))


def test_the_code_view_writes_a_model_that_loads_its_weights(trained):
    from safetensors.torch import load_file

    store, run_id = trained
    config = make_config("digits", "tiny")
    namespace = {"torch": torch, "nn": nn, "math": math}
    exec(codegen.model_source(config), namespace)
    model = namespace[codegen.model_class_name(config)]()
    model.load_state_dict(load_file(store.weights_file(run_id)))
    assert codegen.model_class_name(config) == "Tiny"


@pytest.mark.timeout(300)
def test_the_exported_train_py_runs_without_modelkit(trained, tmp_path):
    store, run_id = trained
    folder = export.export_run(store, run_id, tmp_path / "bundle")
    done = subprocess.run([sys.executable, "-I", "train.py"], cwd=folder, capture_output=True, text=True,
                          timeout=300, env={"PATH": os.environ["PATH"], "HOME": str(folder)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "test_accuracy" in json.loads(done.stdout.strip().splitlines()[-1])


def test_look_inside_shows_its_layers(trained):
    from modelkit.ui.inside_view import parts_for

    store, run_id = trained
    model = inside.load(store, run_id)
    assert parts_for(model) == ["forward", "loss", "gradients", "metrics"]
    names = [layer["name"] for layer in inside.forward(model, 0)["layers"]]
    assert any("hidden" in name for name in names)
    look = inside.inspect_run(store, run_id, 0)
    assert look["arch"] == "tiny" and look["layers"]
