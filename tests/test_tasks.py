"""Tasks: offline, deterministic, split three ways, shaped as their spec says."""
import pytest
import torch

from modelkit.config import ConfigError, TaskConfig
from modelkit.data import tasks
from modelkit.data.tasks import TASKS, load


@pytest.mark.parametrize("name", list(TASKS))
def test_task_tensors_match_its_spec(name):
    data = load(TaskConfig(name=name, n_samples=300))
    spec = data.spec
    assert spec.kind == TASKS[name].kind and spec.input_kind == TASKS[name].input_kind
    for x, y in [(data.x_train, data.y_train), (data.x_val, data.y_val), (data.x_test, data.y_test)]:
        assert len(x) == len(y) > 0
        assert tuple(x.shape[1:]) == spec.input_shape
        if spec.kind == "classification":
            assert y.dtype == torch.int64 and int(y.max()) < spec.n_outputs
        elif spec.kind == "regression":
            assert tuple(y.shape[1:]) == (spec.n_outputs,)
        else:
            assert x.dtype == torch.int64 and y.shape == x.shape and int(x.max()) < spec.n_outputs


def test_same_seed_same_data_other_seed_other_split():
    a = load(TaskConfig(name="spiral", seed=1))
    b = load(TaskConfig(name="spiral", seed=1, noise=0.1))
    c = load(TaskConfig(name="spiral", seed=2))
    assert torch.equal(a.x_train, b.x_train)
    assert not torch.equal(a.x_train, c.x_train)


def test_mnist1d_uses_the_generators_default_sizes():
    data = load(TaskConfig(name="mnist1d"))
    assert len(data.x_train) + len(data.x_val) == 4000 and len(data.x_test) == 1000
    assert data.spec.input_shape == (40,) and data.spec.n_outputs == 10


def test_text_task_learns_any_utf8_text_chinese_included():
    text = "深度学习让机器从数据中学习。" * 40
    data = load(TaskConfig(name="text", text=text, seq_len=16))
    assert set(data.spec.vocab) == set(text)
    decoded = "".join(data.spec.vocab[i] for i in data.x_train[0].tolist())
    assert decoded in text * 2


def test_text_that_is_too_short_is_refused_with_its_field():
    with pytest.raises(ConfigError) as err:
        load(TaskConfig(name="text", text="too short", seq_len=16))
    assert err.value.path == "task.text" and "too short" in err.value.message


def test_tabular_features_are_standardised_on_the_training_split():
    data = load(TaskConfig(name="wine"))
    assert data.x_train.mean(0).abs().max() < 1e-4
    assert (data.x_train.std(0) - 1).abs().max() < 1e-3


def test_mnist1d_is_generated_once_then_read_back_identically(tmp_path, monkeypatch):
    from modelkit.data import tasks

    monkeypatch.setenv("MODELKIT_HOME", str(tmp_path))
    first = tasks._mnist1d_arrays()
    cached = list((tmp_path / "cache").glob("mnist1d-*.npz"))
    assert len(cached) == 1
    again = tasks._mnist1d_arrays()
    assert all((first[k] == again[k]).all() for k in first)


def _tiny(cfg):
    x = torch.randn(120, 3, generator=torch.Generator().manual_seed(cfg.seed))
    spec = tasks.TaskSpec(cfg.name, "classification", "vector", (3,), 2, ("no", "yes"))
    return tasks.split(cfg, spec, x, (x.sum(1) > 0).long())


@pytest.fixture
def tiny_task(monkeypatch):
    """A throwaway task, registered the way a new one would be: one registry entry, nothing else."""
    monkeypatch.setitem(tasks.TASKS, "tiny", tasks.TaskInfo("tiny", "classification", "vector", _tiny))
    return "tiny"


def test_a_registered_task_is_offered_by_the_cli_and_configured_with_defaults(tiny_task, capsys):
    from modelkit.cli import main
    from modelkit.config import make_config

    assert main(["tasks"]) == 0
    assert any(line.startswith("tiny ") and "mlp" in line for line in capsys.readouterr().out.splitlines())
    config = make_config(tiny_task, "mlp")
    assert config.model.hidden == [32, 32] and config.train.epochs == 60   # the vector tasks' defaults
    assert tasks.load(config.task).spec.n_outputs == 2


def test_a_registered_task_is_offered_by_the_train_page(tiny_task):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../app_pages/train.py", default_timeout=120)
    at.session_state["lang"] = "en"
    at.session_state["participant"] = ""
    at.run()
    assert not at.exception
    at.selectbox(key="train_task").set_value("tiny").run()
    assert not at.exception
    assert at.selectbox(key="train_arch").options == ["Linear (baseline)", "MLP (deep network)"]
