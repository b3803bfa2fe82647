"""Look inside: the engine's arrays from really trained tiny runs, the CLI's JSON, and the view in both languages."""
import json
import math

import numpy as np
import pytest
import streamlit as st
import torch
from safetensors.torch import load_file
from streamlit.testing.v1 import AppTest

from modelkit import inside
from modelkit.cli import main
from modelkit.config import make_config
from modelkit.execution import worker
from modelkit.store import NoModelError, Store
from modelkit.training import callbacks

TINY = {
    "cnn": ("digits", "cnn", ["train.epochs=1", "model.channels=[4,8]", "model.head=0"]),
    "gru": ("digits", "gru", ["train.epochs=1", "model.hidden_size=16"]),
    "transformer": ("digits", "transformer", ["train.epochs=1", "model.d_model=16", "model.heads=2",
                                              "model.ff_width=32"]),
    "mlp": ("moons", "mlp", ["train.epochs=2", "task.n_samples=200", "model.hidden=[8,8]"]),
    "text": ("text", "gru", ["train.epochs=null", "train.time_budget=1", "task.seq_len=16",
                             "model.hidden_size=16", "model.embed_dim=8"]),
}


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory):
    """One tiny real run per family, trained once for the module: (store, {name: run_id})."""
    store = Store(home=tmp_path_factory.mktemp("inside") / "home")
    ids = {}
    for name, (task, arch, sets) in TINY.items():
        ids[name] = store.create_run(make_config(task, arch, sets), queued=False)
        worker.execute_run(store, ids[name])
    return store, ids


def trained(trained_runs, name):
    store, ids = trained_runs
    return inside.load(store, ids[name])


def test_attention_rows_sum_to_one(trained_runs):
    look = inside.transformer(trained(trained_runs, "transformer"), example=0)
    attention = look["attention"]  # (layers, heads, T, T)
    assert attention.shape[:2] == (2, 2) and attention.shape[2] == attention.shape[3] == len(look["labels"])
    assert np.allclose(attention.sum(-1), 1.0, atol=1e-5)


def test_positional_encoding_has_one_row_per_position_and_each_is_most_like_itself(trained_runs):
    look = inside.transformer(trained(trained_runs, "transformer"), example=0)
    n = look["attention"].shape[-1]
    assert look["positional_encoding"].shape == (n, 16)
    assert (look["position_similarity"].argmax(1) == np.arange(n)).all()


def test_hidden_states_differ_between_two_different_inputs(trained_runs):
    model = trained(trained_runs, "gru")
    first, second = inside.rnn(model, 0)["hidden"], inside.rnn(model, 1)["hidden"]
    assert first.shape == (8, 16)  # one row of the 8x8 digit per step, 16 units
    assert not np.allclose(first, second)


def test_text_hidden_states_come_with_the_characters_read_and_next_character_guesses(trained_runs):
    model = trained(trained_runs, "text")
    look, guesses = inside.rnn(model, 0), inside.next_char_guesses(model, 0)
    assert len(look["tokens"]) == look["hidden"].shape[0] == 16
    assert guesses["read"] == look["tokens"] and len(guesses["guesses"][0]) == 3
    assert (np.diff(guesses["probabilities"], axis=1) <= 0).all()  # likeliest first


def test_the_filters_returned_are_the_saved_conv_weights(trained_runs):
    store, ids = trained_runs
    look = inside.cnn(trained(trained_runs, "cnn"), 0)
    saved = load_file(str(store.weights_file(ids["cnn"])))
    for i, filters in enumerate(look["filters"]):
        assert np.array_equal(filters, saved[f"blocks.{i}.conv.weight"].numpy())


def test_feature_map_shapes_follow_the_conv_and_pool_arithmetic(trained_runs):
    look = inside.cnn(trained(trained_runs, "cnn"), 0)
    # 8x8 digits, 3x3 kernels padded by 1 keep the size; each 2x2 pooling halves it
    assert [m.shape for m in look["feature_maps"]] == [(4, 8, 8), (8, 4, 4)]
    assert [m.shape for m in look["pooled"]] == [(4, 4, 4), (8, 2, 2)]


def test_forward_gives_probabilities_that_sum_to_one_and_the_examples_cross_entropy(trained_runs):
    model = trained(trained_runs, "cnn")
    look = inside.forward(model, 5)
    probs, target = look["probabilities"], int(look["target"])
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert look["loss"]["cross_entropy"] == pytest.approx(-math.log(probs[target]), rel=1e-4)
    assert [layer["name"] for layer in look["layers"]] == ["blocks.0", "blocks.1", "out"]


def test_every_first_layer_neuron_of_a_2d_task_gets_its_own_region_map(trained_runs):
    regions = inside.neuron_regions(trained(trained_runs, "mlp"), resolution=20)
    assert regions["maps"].shape == (8, 20, 20)


def test_gradient_norms_exist_for_every_layer_with_parameters_and_are_finite(trained_runs):
    store, ids = trained_runs
    for name in ("cnn", "gru", "transformer", "mlp"):
        model = trained(trained_runs, name).model
        norms = inside.grad_norms(store.points(ids[name]))
        assert set(norms) == {callbacks.layer_of(p) for p, _ in model.named_parameters()}, name
        assert all(math.isfinite(v) and v > 0 for series in norms.values() for _, v in series), name


def test_gradient_norms_are_read_every_few_steps_not_every_step(trained_runs):
    store, ids = trained_runs
    steps = [s for s, _ in inside.grad_norms(store.points(ids["cnn"]))["out"]]
    assert steps[0] == 1 and all(b - a >= callbacks.GRAD_EVERY for a, b in zip(steps, steps[1:]))
    assert len(steps) < store.get_run(ids["cnn"]).metrics["steps"] / 2


def test_the_gradient_callback_uses_a_model_it_is_given():
    model, seen = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1)), {}

    class Sink:
        def on_eval(self, metrics, **info):
            seen.update(metrics)

    norms = callbacks.GradientNorms(Sink())
    norms.on_fit_begin(model=model, params=sum(p.numel() for p in model.parameters()))
    model(torch.randn(5, 3)).sum().backward()
    norms.on_step(step=1, epoch=0.1, seconds=0.0)
    assert set(seen) == {"grad_norm/0", "grad_norm/1"}
    expected = torch.cat([model[1].weight.grad.ravel(), model[1].bias.grad]).norm()
    assert seen["grad_norm/1"] == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize("norms, verdict", [
    ({"a": [[1, 0.5], [10, 0.4]], "b": [[1, 0.2], [10, 0.3]]}, "healthy"),
    ({"a": [[1, 0.5], [10, 0.4]], "b": [[1, 0.2], [10, 1e-7]]}, "vanishing"),
    ({"a": [[1, 0.5], [10, 5e3]]}, "exploding"),
    ({}, "none"),
])
def test_the_gradient_verdict_names_vanishing_and_exploding_gradients(norms, verdict):
    assert inside.gradient_verdict(norms) == verdict


def test_cross_entropy_punishes_a_confident_wrong_answer_far_more_than_mse():
    curves = inside.ce_vs_mse(10, np.array([0.01, 1.0]))
    assert curves["cross_entropy"][1] == pytest.approx(0) and curves["mse"][1] == pytest.approx(0)
    assert curves["cross_entropy"][0] > 4 and curves["mse"][0] < 0.11


def test_class_cells_read_precision_from_the_column_and_recall_from_the_row():
    cells = inside.class_cells([[5, 1], [3, 7]], 1)
    assert cells["precision"] == pytest.approx(7 / 8) and cells["recall"] == pytest.approx(7 / 10)


def test_a_threshold_of_zero_finds_every_positive_and_one_above_all_finds_none():
    p, y = np.array([0.1, 0.4, 0.6, 0.9]), np.array([0, 1, 0, 1])
    assert inside.threshold_scores(p, y, 0.0)["recall"] == 1.0
    assert inside.threshold_scores(p, y, 0.95)["recall"] == 0.0
    assert inside.threshold_scores(p, y, 0.5)["precision"] == pytest.approx(0.5)


def test_optimizers_start_together_and_momentum_crosses_a_long_valley_that_gd_crawls_along():
    paths = inside.optimizer_paths("valley", lr=0.1, steps=60)
    assert set(paths) == set(inside.OPTIMIZER_PATHS)
    assert all(np.array_equal(p[0], paths["gd"][0]) and len(p) == 61 for p in paths.values())
    assert np.linalg.norm(paths["momentum"][-1]) < np.linalg.norm(paths["gd"][-1]) / 10


def test_a_run_without_saved_weights_cannot_be_looked_inside(tmp_path):
    store = Store(home=tmp_path / "empty")
    run_id = store.create_run(make_config("moons", "mlp"))
    with pytest.raises(NoModelError, match="no trained weights"):   # the one "no model" of every reader
        inside.load(store, run_id)


# --- the command line ---------------------------------------------------------------------

@pytest.mark.parametrize("name, fields", [("cnn", ("filters", "feature_maps")), ("gru", ("hidden",)),
                                          ("transformer", ("attention", "positional_encoding"))])
def test_inspect_prints_one_json_object_with_what_the_family_has(trained_runs, monkeypatch, capsys, name, fields):
    store, ids = trained_runs
    monkeypatch.setenv("MODELKIT_HOME", str(store.home))
    assert main(["inspect", ids[name], "--json", "--example", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["arch"] == name and out["example"] == 2 and len(out["probabilities"]) == 10
    assert all(set(layer) == {"name", "shape", "summary"} for layer in out["layers"])
    assert all(field in out for field in fields) and out["grad_norms"]


def test_inspect_refuses_an_example_past_the_test_set_naming_the_flag(trained_runs, monkeypatch, capsys):
    store, ids = trained_runs
    monkeypatch.setenv("MODELKIT_HOME", str(store.home))
    assert main(["inspect", ids["cnn"], "--example", "100000"]) == 2
    assert "--example: Pick an example from 0 to" in capsys.readouterr().err


# --- the view -----------------------------------------------------------------------------

def view_script():
    import streamlit as st

    from modelkit.config import RunConfig
    from modelkit.ui.inside_view import inside_section
    from modelkit.ui.resources import get_store

    run = get_store().get_run(st.session_state["run_id"])
    inside_section(run, RunConfig.from_dict(run.config))


@pytest.mark.parametrize("lang, title", [("en", "Look inside"), ("zh", "看看内部")])
@pytest.mark.parametrize("name, charts, chart_title", [
    ("cnn", 9, {"en": "The learned filters", "zh": "学到的卷积核"}),
    ("gru", 7, {"en": "The hidden state, step by step", "zh": "逐步变化的隐藏状态"}),
    ("transformer", 8, {"en": "Who looks at whom", "zh": "谁在看谁"})])
def test_the_view_of_a_finished_run_shows_its_charts_in_both_languages(trained_runs, monkeypatch, lang, title,
                                                                      name, charts, chart_title):
    store, ids = trained_runs
    monkeypatch.setenv("MODELKIT_HOME", str(store.home))
    st.cache_resource.clear()
    at = AppTest.from_function(view_script, default_timeout=60)
    at.session_state["run_id"], at.session_state["lang"] = ids[name], lang
    at.run()
    assert not at.exception
    assert at.subheader[0].value == title
    assert len(at.get("plotly_chart")) == charts
    assert f"**{chart_title[lang]}**" in [m.value for m in at.markdown]
    st.cache_resource.clear()


@pytest.mark.parametrize("name", ["cnn", "gru", "transformer", "mlp", "text"])
def test_every_chart_of_the_view_has_its_sentence_and_a_table_of_its_numbers(trained_runs, monkeypatch, name):
    from modelkit.text import translate

    store, ids = trained_runs
    monkeypatch.setenv("MODELKIT_HOME", str(store.home))
    st.cache_resource.clear()
    at = AppTest.from_function(view_script, default_timeout=60)
    at.session_state["run_id"], at.session_state["lang"] = ids[name], "zh"
    at.run()
    assert not at.exception
    tables = [e for e in at.expander if e.label == translate("zh", "access.show_table")]
    assert len(tables) == len(at.get("plotly_chart")) and all(len(e.table) == 1 for e in tables)
    st.cache_resource.clear()


def test_next_moves_the_view_to_the_next_test_example(trained_runs, monkeypatch):
    store, ids = trained_runs
    monkeypatch.setenv("MODELKIT_HOME", str(store.home))
    st.cache_resource.clear()
    at = AppTest.from_function(view_script, default_timeout=60)
    at.session_state["run_id"], at.session_state["lang"] = ids["cnn"], "en"
    at.run()
    at.button(key="inside_next").click().run()
    assert at.number_input(key="inside_example").value == 1
    at.button(key="inside_previous").click().run()
    at.button(key="inside_previous").click().run()
    assert at.number_input(key="inside_example").value == len(inside.load(store, ids["cnn"]).data.x_test) - 1
    st.cache_resource.clear()
