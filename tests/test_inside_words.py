"""The Look-inside charts and the optimizer race in words: each sentence follows its chart's data, in
English and Chinese, and each table holds the chart's numbers one row per layer, filter, position or step."""
import numpy as np
import pandas as pd

from modelkit import inside
from modelkit.plots import inside_words as iw


def layer(name, values):
    values = np.asarray(values, dtype=float)
    return {"name": name, "shape": list(values.shape), "values": values, "summary": inside.summarize(values)}


def test_the_activations_say_what_share_of_each_layer_fires():
    layers = [layer("hidden 1", [1.0, -1.0, 2.0, -3.0]), layer("output", [0.5, -0.5])]
    assert "hidden 1 50%" in iw.describe_activations(layers, "en")
    table = iw.activations_table(layers, "en")
    assert table["neurons"].tolist() == [4, 2] and table["strongest unit"].tolist() == [2, 0]


def test_the_regions_give_each_neurons_share_of_the_plane():
    maps = np.stack([np.where(np.arange(10) < 3, 1.0, -1.0)[None].repeat(10, 0), np.ones((10, 10))])
    assert "from 30% to 100%" in iw.describe_regions({"maps": maps}, "en")
    assert iw.regions_table({"maps": maps}, "en")["share of the plane where it is on"].tolist() == [0.3, 1.0]


def test_the_loss_comparison_follows_the_slider():
    curves = inside.ce_vs_mse(10)
    low, high = iw.describe_loss_compare(curves, 0.1, "en"), iw.describe_loss_compare(curves, 0.9, "en")
    assert low != high and "With 0.10 on the right class, cross-entropy is 2.3" in low


def test_the_gradients_name_the_largest_last_norm_first_and_tabulate_every_step():
    norms = {"first": [[10, 0.5], [20, 0.2]], "last": [[10, 0.1], [20, 0.9]]}
    assert iw.describe_gradients(norms, "en").startswith("Gradient norm at the last step, largest first: last 0.9, first 0.2")
    table = iw.gradients_table(norms, "en")
    assert table.columns.tolist() == ["step", "first", "last"] and table["step"].tolist() == [10, 20]


def test_filters_feature_maps_and_pooling_name_the_strongest_and_the_sizes():
    filters = np.zeros((3, 1, 3, 3))
    filters[1] = 0.7
    assert "filter 2 has the largest weights" in iw.describe_filters(filters, 1, "en")
    maps = np.zeros((3, 4, 4))
    maps[2, 1, 1] = 2.5
    assert "filter 3 answers most strongly (up to 2.5); 2 of 3 filters stay at zero" in iw.describe_feature_maps(maps, "en")
    pooled = maps[2].reshape(2, 2, 2, 2).max(axis=(1, 3))
    assert "from 4 × 4 to 2 × 2" in iw.describe_pooling(maps[2], pooled, "en")
    assert iw.pooling_table(pooled, "en").shape == (2, 3)   # a row label, then one column per pixel


def test_the_hidden_state_says_where_it_changes_most():
    hidden = np.zeros((6, 4))
    hidden[3:, 2] = 0.9   # unit 2 switches on at step 3 and stays on
    text = iw.describe_hidden(hidden, "en")
    assert "changes most at step 3" in text and "unit 2 is the strongest (0.9)" in text
    assert iw.hidden_table(hidden, "en", tokens=list("abcdef"))["read"].tolist() == list("abcdef")


def test_the_guesses_count_how_often_the_first_guess_was_the_next_character():
    guesses = {"read": list("abab"), "guesses": [["b", "a"], ["a", "b"], ["x", "a"], ["a", "b"]],
               "probabilities": np.array([[0.8, 0.2]] * 4)}
    assert iw.guesses_right(guesses) == (2, 3)
    assert "right 2 of 3 times" in iw.describe_guesses(guesses, "en")
    assert iw.guesses_table(guesses, "en")["guess 1"].tolist()[0] == "b (80%)"


def test_the_attention_says_who_is_looked_at_most():
    attention = np.full((4, 4), 0.1)
    attention[:, 2] = 0.7   # everyone looks at position 2
    text = iw.describe_attention(attention, list("abcd"), "en")
    assert "2:c is looked at most (by 4 of 4 positions)" in text and "70%" in text
    assert iw.attention_table(attention, list("abcd"), "en")["looks most at"].tolist() == ["2:c"] * 4


def test_the_positional_encoding_compares_neighbours_with_far_positions():
    angle = np.linspace(0, np.pi, 8)
    encoding = np.stack([np.cos(angle), np.sin(angle)], 1)
    similarity = encoding @ encoding.T
    text = iw.describe_positional(encoding, similarity, "Sinusoidal", "en")
    assert "each of the 8 positions gets 2 numbers" in text and "positions 4 apart" in text


def test_the_threshold_names_where_f1_is_highest():
    p, y = np.array([0.1, 0.4, 0.6, 0.9]), np.array([0, 1, 1, 1])
    text = iw.describe_threshold(inside.threshold_curve(p, y), 0.5, "en")
    assert "At threshold 0.50: precision 100%, recall 67%" in text and "F1 is highest (100%)" in text


def test_the_optimizer_race_ranks_the_optimizers_by_the_loss_they_reach():
    paths = inside.optimizer_paths("valley", 0.1)
    losses = inside.path_losses("valley", paths)
    names = {n: n for n in paths}
    text = iw.describe_race(losses, names, "en")
    order = sorted(losses, key=lambda n: losses[n][-1])
    assert text.startswith("After 60 steps, lowest loss first: " + order[0])
    assert losses["gd"][0] == losses["adam"][0]   # one shared start
    table = iw.race_table(losses, names, "en")
    assert table["step"].iloc[-1] == 60 and list(table.columns[1:]) == list(paths)


def test_the_sentences_are_in_chinese_too():
    attention = np.eye(3)
    assert "被关注得最多" in iw.describe_attention(attention, list("abc"), "zh")
    assert iw.attention_table(attention, list("abc"), "zh").columns[0] == "位置"
    assert iw.describe_input(np.zeros((8, 8)), 3, "(7)", "zh").startswith("测试样本 3 (7)")


def test_an_input_image_is_tabulated_row_by_row():
    table = iw.input_table(np.arange(64.0).reshape(8, 8), "en")
    assert isinstance(table, pd.DataFrame) and table.shape == (8, 9) and table["row"].tolist() == list(range(8))
