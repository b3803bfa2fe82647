"""Specification of modelkit.models: which architectures fit which tasks, shapes, defaults, learning."""
import dataclasses

import pytest
import torch
import torch.nn.functional as F

from modelkit import models
from modelkit.config import (
    ConfigError,
    TrainConfig,
    default_model_dict,
    default_train_dict,
    parse,
)
from modelkit.data.tasks import TASKS, TaskSpec

# Small stand-ins for each input kind; names are real tasks so their defaults apply.
SPECS = {
    "vector": TaskSpec("moons", "classification", "vector", (2,), 2, ("a", "b")),
    "tabular": TaskSpec("wine", "classification", "vector", (13,), 3),
    "image": TaskSpec("digits", "classification", "image", (1, 8, 8), 10),
    "sequence": TaskSpec("mnist1d", "classification", "sequence", (40,), 10),
    "regression": TaskSpec("sine", "regression", "sequence", (24,), 5),
    "lm": TaskSpec("text", "lm", "tokens", (16,), 12, vocab="abcdefghijk "),
}
PAIRS = [(arch, key) for key, spec in SPECS.items() for arch in models.archs_for(spec.name)]


def default_model(arch: str, spec: TaskSpec, **changes):
    torch.manual_seed(0)
    data = dict(default_model_dict(arch, spec.name), **changes)
    return models.build(parse(models.model_config_class(arch), data, "model"), spec)


def batch(spec: TaskSpec, n: int = 16):
    """A tiny fixed batch whose targets follow from the inputs, so every model can learn them."""
    g = torch.Generator().manual_seed(1)
    if spec.kind == "lm":
        start = torch.randint(0, spec.n_outputs, (n, 1), generator=g)
        x = (start + torch.arange(spec.input_shape[0])) % spec.n_outputs  # each character is the previous + 1
        return x, (x + 1) % spec.n_outputs
    x = torch.randn(n, *spec.input_shape, generator=g)
    mix = torch.randn(x[0].numel(), spec.n_outputs, generator=g)
    target = x.flatten(1) @ mix  # (n, n_outputs)
    return (x, target) if spec.kind == "regression" else (x, target.argmax(dim=1))


def loss_of(model, spec, x, y):
    out = model(x)
    if spec.kind == "regression":
        return F.mse_loss(out, y)
    return F.cross_entropy(out.reshape(-1, spec.n_outputs), y.reshape(-1))


def test_fitting_table():
    assert models.archs_for("moons") == ["linear", "mlp"]
    assert models.archs_for("digits") == ["linear", "mlp", "cnn", "rnn", "lstm", "gru", "transformer"]
    assert models.archs_for("mnist1d") == ["linear", "mlp", "cnn", "rnn", "lstm", "gru", "transformer"]
    assert models.archs_for("text") == ["linear", "rnn", "lstm", "gru", "transformer"]


@pytest.mark.parametrize("arch, key", PAIRS)
def test_output_shape_follows_task_kind(arch, key):
    spec = SPECS[key]
    x, _ = batch(spec, 3)
    out = default_model(arch, spec)(x)
    expected = (3, *spec.input_shape, spec.n_outputs) if spec.kind == "lm" else (3, spec.n_outputs)
    assert tuple(out.shape) == expected


@pytest.mark.parametrize("arch, key", PAIRS)
def test_a_few_adam_steps_lower_the_loss(arch, key):
    spec = SPECS[key]
    model = default_model(arch, spec)
    x, y = batch(spec)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    before = loss_of(model, spec, x, y).item()
    for _ in range(15):
        loss = loss_of(model, spec, x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss_of(model, spec, x, y).item() < 0.9 * before


@pytest.mark.parametrize("arch, key", PAIRS)
def test_summary_rows_add_up_to_the_parameter_count(arch, key):
    spec = SPECS[key]
    model = default_model(arch, spec)
    rows = models.summary(model, spec)
    assert sum(r["params"] for r in rows) == models.count_params(model) > 0
    assert all(set(r) == {"layer", "type", "output_shape", "params"} for r in rows)
    assert rows[-1]["output_shape"].startswith("(B, ")


def test_summary_shows_output_shapes_with_batch_as_b():
    spec = SPECS["sequence"]
    rows = {r["layer"]: r for r in models.summary(default_model("cnn", spec), spec)}
    assert rows["blocks.0.conv"]["output_shape"] == "(B, 32, 40)"
    assert rows["out"]["output_shape"] == "(B, 10)"


@pytest.mark.parametrize("task", list(TASKS))
def test_defaults_parse_for_every_fitting_architecture(task):
    for arch in models.archs_for(task):
        cfg = parse(models.model_config_class(arch), default_model_dict(arch, task), "model")
        assert cfg.arch == arch
        train = parse(TrainConfig, default_train_dict(task, arch), "train")
        assert isinstance(train, TrainConfig)


def test_unfitting_pairing_names_the_architectures_that_fit():
    with pytest.raises(ConfigError) as err:
        default_model_dict("cnn", "moons")
    assert (err.value.path, err.value.code) == ("model.arch", "arch_fit")
    assert err.value.params["fitting"] == "linear, mlp"


def test_build_refuses_an_architecture_that_does_not_fit_the_task():
    cfg = parse(models.MLPConfig, {}, "model")
    with pytest.raises(ConfigError) as err:
        models.build(cfg, SPECS["lm"])
    assert err.value.code == "arch_fit" and err.value.params["fitting"] == "linear, rnn, lstm, gru, transformer"


def test_unknown_architecture_lists_the_known_ones():
    with pytest.raises(ConfigError) as err:
        models.model_config_class("resnet")
    assert err.value.code == "unknown_arch" and err.value.params["choices"].startswith("linear, mlp, cnn")


def test_lstm_and_gru_names_choose_their_cell():
    assert parse(models.RNNConfig, {"arch": "gru"}, "model").cell == "gru"
    assert parse(models.RNNConfig, {"arch": "lstm"}, "model").cell == "lstm"
    assert parse(models.RNNConfig, {"arch": "rnn", "cell": "lstm"}, "model").cell == "lstm"
    with pytest.raises(ConfigError) as err:
        parse(models.RNNConfig, {"arch": "gru", "cell": "lstm"}, "model")
    assert (err.value.path, err.value.code) == ("model.cell", "cell")


def test_rnn_cell_decides_the_recurrent_layer():
    spec = SPECS["sequence"]
    assert isinstance(default_model("lstm", spec).rnn, torch.nn.LSTM)
    assert isinstance(default_model("rnn", spec, cell="gru").rnn, torch.nn.GRU)


def test_bidirectional_doubles_the_head_input_and_is_refused_on_text():
    model = default_model("gru", SPECS["sequence"], bidirectional=True)
    assert model.out.in_features == 2 * model.rnn.hidden_size
    with pytest.raises(ConfigError) as err:
        default_model("gru", SPECS["lm"], bidirectional=True)
    assert err.value.code == "bidirectional"


def test_rnn_patch_shortens_the_sequence_and_pads_a_remainder():
    model = default_model("gru", SPECS["regression"], patch=5)  # 24 values -> 5 steps of 5
    assert tuple(model.steps(torch.ones(2, 24)).shape) == (2, 5, 5)
    assert tuple(model(torch.ones(2, 24)).shape) == (2, 5)


def test_rnn_reads_an_image_row_by_row():
    model = default_model("gru", SPECS["image"])
    image = torch.arange(64.0).view(1, 1, 8, 8)
    assert torch.equal(model.steps(image)[0, 2], torch.arange(16.0, 24.0))


def test_attention_maps_are_one_row_stochastic_map_per_layer():
    spec = SPECS["sequence"]
    model = default_model("transformer", spec, layers=3, heads=2, patch=4, stride=0)
    maps = model.attention_maps(torch.randn(5, 40))
    assert [tuple(m.shape) for m in maps] == [(5, 2, 10, 10)] * 3
    assert torch.allclose(maps[0].sum(-1), torch.ones(5, 2, 10))


def test_class_token_adds_one_position_to_the_attention_maps():
    model = default_model("transformer", SPECS["image"], pooling="cls", patch=2)
    maps = model.attention_maps(torch.randn(2, 1, 8, 8))
    assert tuple(maps[0].shape) == (2, 4, 17, 17)


def test_attention_maps_match_the_fast_attention_path():
    spec = SPECS["image"]
    model = default_model("transformer", spec).eval()
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        fast = model(x)
    model.attention_maps(x)
    with torch.no_grad():
        assert torch.allclose(model(x), fast, atol=1e-5)


@pytest.mark.parametrize("arch", ["linear", "gru", "transformer"])
def test_language_models_never_see_the_future(arch):
    spec = SPECS["lm"]
    model = default_model(arch, spec).eval()
    x, _ = batch(spec, 2)
    changed = x.clone()
    changed[:, 10:] = (changed[:, 10:] + 1) % spec.n_outputs
    with torch.no_grad():
        assert torch.allclose(model(x)[:, :10], model(changed)[:, :10], atol=1e-6)
        assert not torch.allclose(model(x)[:, 10:], model(changed)[:, 10:])


def test_transformer_lm_attention_is_causal():
    model = default_model("transformer", SPECS["lm"])
    (first, *_) = model.attention_maps(torch.zeros(1, 16, dtype=torch.long))
    assert torch.count_nonzero(first[0, 0].triu(1)) == 0


def test_heads_must_divide_the_width():
    with pytest.raises(ConfigError) as err:
        parse(models.TransformerConfig, {"heads": 3}, "model")
    assert (err.value.code, err.value.params) == ("heads", {"heads": 3, "width": 64})


def test_mlp_settings_shape_the_layers():
    model = default_model("mlp", SPECS["tabular"], hidden=[7, 5], activation="tanh", batch_norm=True, dropout=0.2)
    assert [layer.linear.out_features for layer in model.hidden] == [7, 5]
    assert isinstance(model.hidden[0].act, torch.nn.Tanh)
    assert isinstance(model.hidden[0].norm, torch.nn.BatchNorm1d)


def test_cnn_pooling_halves_until_the_maps_are_small():
    model = default_model("cnn", SPECS["image"], channels=[4, 4, 4], pooling="avg")
    sizes = [tuple(model.blocks[: i + 1](torch.zeros(1, 1, 8, 8)).shape[2:]) for i in range(3)]
    assert sizes == [(4, 4), (2, 2), (2, 2)]


def test_linear_on_text_is_a_bigram_table():
    model = default_model("linear", SPECS["lm"])
    assert models.count_params(model) == 12 * 12


def test_a_large_vocabulary_gets_a_linear_table_of_low_rank_that_fits_a_room():
    """The Chinese poems' ~2,500 characters: a full table would be 6 million numbers, over a room's limit."""
    from modelkit.models.linear import TABLE_RANK
    from modelkit.room.rules import Limits

    vocab = 2500
    spec = TaskSpec("text", "lm", "tokens", (16,), vocab, vocab="".join(chr(0x4E00 + i) for i in range(vocab)))
    model = default_model("linear", spec)
    assert models.count_params(model) == 2 * vocab * TABLE_RANK + vocab < Limits().params
    x = torch.randint(0, vocab, (3, 16))
    assert model(x).shape == (3, 16, vocab)
    relu_free = [m for m in model.modules() if not isinstance(m, (torch.nn.Embedding, torch.nn.Linear, type(model)))]
    assert relu_free == []   # nothing between the two factors: still a linear model of the one-hot input


def test_configs_round_trip_through_dicts():
    for arch in models.ARCHS:
        cfg = parse(models.model_config_class(arch), default_model_dict(arch, "mnist1d"), "model")
        assert parse(type(cfg), dataclasses.asdict(cfg), "model") == cfg


@pytest.mark.parametrize("arch", list(models.ARCHS))
def test_counting_on_the_meta_device_allocates_nothing_and_matches_the_real_count(arch):
    spec = SPECS["image"] if arch != "linear" else SPECS["vector"]
    cfg = parse(models.model_config_class(arch), default_model_dict(arch, spec.name), "model")
    on_meta = models.build_on_meta(cfg, spec)
    assert all(p.device.type == "meta" for p in on_meta.parameters())
    assert models.count_params(on_meta) == models.count_params(models.build(cfg, spec))
    assert [r["output_shape"] for r in models.summary(on_meta, spec)] == \
        [r["output_shape"] for r in models.summary(models.build(cfg, spec), spec)]


def test_a_ten_billion_parameter_model_is_counted_without_memory():
    cfg = parse(models.MLPConfig, {"hidden": [4096] * 16}, "model")
    big = models.count_params(models.build_on_meta(cfg, SPECS["tabular"]))
    assert big > 2.5e8   # 16 layers of 4096 x 4096: far beyond what the counting process could hold twice
