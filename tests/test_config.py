"""RunConfig: defaults, JSON round-trip, --set overrides, and refused values with their messages."""
import json

import pytest

from modelkit.config import ConfigError, RunConfig, TaskConfig, TrainConfig, describe, make_config, parse


def test_json_round_trip_gives_an_equal_config():
    cfg = make_config("moons", "mlp", ["train.lr=0.02", "model.hidden=[32,16]", "task.noise=0.3"])
    again = RunConfig.from_json(cfg.to_json())
    assert again.to_dict() == cfg.to_dict()
    assert again.train.lr == 0.02 and again.model.hidden == [32, 16] and again.task.noise == 0.3


def test_set_parses_numbers_lists_booleans_and_null():
    cfg = make_config("moons", "mlp", ["train.nesterov=true", "train.time_budget=5", "train.epochs=null"])
    assert cfg.train.nesterov is True
    assert cfg.train.time_budget == 5.0 and cfg.train.epochs is None


@pytest.mark.parametrize("sets, path, words", [
    (["train.lr=-1"], "train.lr", "greater than 0"),
    (["model.hidden=abc"], "model.hidden", "list"),
    (["train.nosuch=1"], "train.nosuch", "unknown setting"),
    (["train.optimizer=adamax"], "train.optimizer", "adam, adamw"),
    (["train.batch_size=2.5"], "train.batch_size", "whole number"),
    (["train.epochs=null"], "train.epochs", "time budget"),
    (["lr=0.1"], "lr", "section.field"),
])
def test_refused_values_name_the_field_and_what_is_allowed(sets, path, words):
    with pytest.raises(ConfigError) as err:
        make_config("moons", "mlp", sets)
    assert err.value.path == path
    assert words in str(err.value)


def test_unknown_task_lists_the_tasks():
    with pytest.raises(ConfigError) as err:
        make_config("nosuch", "mlp")
    assert "moons" in str(err.value) and "mnist1d" in str(err.value)


def test_unknown_section_is_refused():
    with pytest.raises(ConfigError, match="sections are task, model and train"):
        RunConfig.from_dict({"task": {}, "model": {"arch": "mlp"}, "train": {}, "extra": {}})


def test_broken_json_is_refused_in_plain_words():
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.from_json("{oops")


def test_every_field_has_a_description():
    for cls in (TaskConfig, TrainConfig):
        for name, meta in describe(cls).items():
            assert len(meta["help"]) > 15, f"{cls.__name__}.{name} needs a plain-language description"


def test_parse_keeps_defaults_for_missing_keys():
    cfg = parse(TrainConfig, {"lr": 0.1}, "train")
    assert cfg.lr == 0.1 and cfg.optimizer == TrainConfig().optimizer


def test_config_file_content_is_plain_json():
    cfg = make_config("digits", "cnn")
    data = json.loads(cfg.to_json())
    assert data["task"]["name"] == "digits" and data["model"]["arch"] == "cnn"
