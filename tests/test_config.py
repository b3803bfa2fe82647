"""RunConfig: defaults, JSON round-trip, --set overrides, and refused values with their messages."""
import json

import pytest

from modelkit.config import ConfigError, RunConfig, TrainConfig, make_config, parse


def test_json_round_trip_gives_an_equal_config():
    cfg = make_config("moons", "mlp", ["train.lr=0.02", "model.hidden=[32,16]", "task.noise=0.3"])
    again = RunConfig.from_json(cfg.to_json())
    assert again.to_dict() == cfg.to_dict()
    assert again.train.lr == 0.02 and again.model.hidden == [32, 16] and again.task.noise == 0.3


def test_set_parses_numbers_lists_booleans_and_null():
    cfg = make_config("moons", "mlp", ["train.nesterov=true", "train.time_budget=5", "train.epochs=null"])
    assert cfg.train.nesterov is True
    assert cfg.train.time_budget == 5.0 and cfg.train.epochs is None


@pytest.mark.parametrize("sets, path, code", [
    (["train.lr=-1"], "train.lr", "range_open"),
    (["model.hidden=abc"], "model.hidden", "type_list"),
    (["train.nosuch=1"], "train.nosuch", "unknown_setting"),
    (["train.optimizer=adamax"], "train.optimizer", "choice"),
    (["train.batch_size=2.5"], "train.batch_size", "type_int"),
    (["train.epochs=null"], "train.epochs", "budget"),
    (["lr=0.1"], "lr", "set_path"),
    (["train.momentum=NaN"], "train.momentum", "not_finite"),
    (["train.weight_decay=Infinity"], "train.weight_decay", "not_finite"),
    (["task.seed=2e53"], "task.seed", "range"),
    (["train.seed=4294967296"], "train.seed", "range"),
    (["model.hidden=[[[[1]]]]"], "model.hidden", "type_list"),
    (["model.hidden=" + "[" * 5000 + "]" * 5000], "model.hidden", "too_deep"),
    (["train.loss=cross_entropy"], "train.loss", "loss_regression"),
])
def test_refused_values_name_the_field_and_the_rule(sets, path, code):
    task = "sine" if code == "loss_regression" else "moons"
    with pytest.raises(ConfigError) as err:
        make_config(task, "mlp", sets)
    assert (err.value.path, err.value.code) == (path, code)
    assert str(err.value).startswith(path + ": ")


def test_a_refusal_reads_the_same_words_as_the_pages():
    with pytest.raises(ConfigError) as err:
        make_config("moons", "mlp", ["train.optimizer=adamax"])
    assert err.value.text("en") == "Choose one of: gd, sgd, adam, adamw, rmsprop."
    assert err.value.text("zh").startswith("请从以下选项中选择")


def test_unknown_task_lists_the_tasks():
    with pytest.raises(ConfigError) as err:
        make_config("nosuch", "mlp")
    assert err.value.code == "unknown_task"
    assert "moons" in str(err.value) and "mnist1d" in str(err.value)


@pytest.mark.parametrize("data, path", [
    ({"task": {}, "model": {"arch": "mlp"}, "train": {}, "extra": {}}, "extra"),
    ({"task": [1, 2], "model": {"arch": "mlp"}}, "task"),
    ({"task": {}, "model": "mlp"}, "model"),
    ({"task": {}, "model": {"arch": "mlp"}, "train": 3}, "train"),
    ([1, 2, 3], ""),
])
def test_a_section_of_the_wrong_shape_is_a_refusal_naming_it(data, path):
    with pytest.raises(ConfigError) as err:
        RunConfig.from_dict(data)
    assert err.value.path == path


def test_broken_json_is_refused_in_plain_words():
    with pytest.raises(ConfigError, match="not valid JSON") as err:
        RunConfig.from_json("{oops")
    assert err.value.code == "bad_json"


def test_over_long_text_is_refused():
    with pytest.raises(ConfigError) as err:
        make_config("text", "transformer", base={"task": {"text": "x" * 1_000_001}})
    assert (err.value.path, err.value.code) == ("task.text", "too_long")


@pytest.mark.parametrize("seq_len", [8, 64, 200])
def test_own_text_long_enough_for_the_check_is_long_enough_to_train(seq_len):
    from modelkit.data import tasks

    cfg = make_config("text", "linear", [f"task.seq_len={seq_len}"]).task
    need = tasks._text_min_length(cfg)
    with pytest.raises(ConfigError) as err:
        make_config("text", "linear", [f"task.seq_len={seq_len}"], base={"task": {"text": ("ab c" * need)[: need - 1]}})
    assert err.value.code == "text_short"
    cfg.text = ("the quick brown fox " * need)[:need]
    data = tasks.load(cfg)
    assert len(data.x_train) > 0 and len(data.x_val) > 0 and len(data.x_test) > 0


def test_parse_keeps_defaults_for_missing_keys():
    cfg = parse(TrainConfig, {"lr": 0.1}, "train")
    assert cfg.lr == 0.1 and cfg.optimizer == TrainConfig().optimizer


def test_config_file_content_is_plain_json():
    cfg = make_config("digits", "cnn")
    data = json.loads(cfg.to_json())
    assert data["task"]["name"] == "digits" and data["model"]["arch"] == "cnn"
