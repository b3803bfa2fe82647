"""predict: a stored run's model on raw input, for every kind of input, loaded once and cached."""
import numpy as np
import pytest
import torch
from trained import train_tiny

from modelkit.config import RunConfig, make_config
from modelkit.data import tasks
from modelkit.store import Store
from modelkit.use import predict


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return Store(home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def runs(store):
    """task -> a finished run id, trained once for this file."""
    return {task: train_tiny(store, task, arch) for task, arch in
            [("digits", "cnn"), ("iris", "mlp"), ("moons", "mlp"), ("mnist1d", "gru"), ("sine", "gru"),
             ("text", "transformer")]}


def test_an_image_gets_one_probability_per_digit_that_sum_to_one(store, runs):
    predictor = predict.load(store, runs["digits"])
    image = tasks.load(predictor.config.task).x_test[0]
    out = predictor.predict([image.tolist()])
    assert len(out["probabilities"][0]) == 10
    assert sum(out["probabilities"][0]) == pytest.approx(1.0, abs=1e-4)
    assert out["labels"] == [str(out["predictions"][0])]


def test_predictions_on_the_test_images_reach_the_stored_accuracy(store, runs):
    predictor = predict.load(store, runs["digits"])
    data = tasks.load(predictor.config.task)
    pred = predictor.predict(data.x_test[:256].numpy())["predictions"]
    pred += predictor.predict(data.x_test[256:].numpy())["predictions"]
    accuracy = float(np.mean(np.array(pred) == data.y_test.numpy()))
    assert accuracy == pytest.approx(store.get_run(runs["digits"]).metrics["test_accuracy"], abs=1e-9)


def test_a_flat_list_of_64_pixels_is_taken_as_the_8x8_image(store, runs):
    predictor = predict.load(store, runs["digits"])
    image = tasks.load(predictor.config.task).x_test[3]
    assert predictor.predict([image.flatten().tolist()]) == predictor.predict([image.tolist()])


def test_a_table_row_in_its_own_units_is_standardised_the_way_training_was(store, runs):
    predictor = predict.load(store, runs["iris"])
    raw_rows = predict.example_inputs(predictor, 5)
    assert 4.0 < raw_rows[0][0] < 8.0     # sepal length in cm, not a standardised value
    expected = predictor.model(tasks.load(predictor.config.task).x_test[:5]).softmax(-1)
    got = torch.tensor(predictor.predict(raw_rows)["probabilities"])
    assert torch.allclose(got, expected, atol=1e-5)


def test_a_point_on_the_plane_gets_its_class_and_its_probability(store, runs):
    out = predict.load(store, runs["moons"]).predict([[0.5, -1.2], [-1.0, 1.0]])
    assert out["predictions"] == [int(np.argmax(p)) for p in out["probabilities"]]
    assert out["labels"][0] in ("class 0", "class 1")


def test_a_signal_shifted_sideways_still_gets_one_probability_per_class(store, runs):
    predictor = predict.load(store, runs["mnist1d"])
    signal = np.roll(np.asarray(predict.example_inputs(predictor, 1)[0]), 3)
    out = predictor.predict([signal.tolist()])
    assert len(out["probabilities"][0]) == 10 and out["labels"][0] in [str(i) for i in range(10)]


def test_a_sine_window_gets_a_forecast_of_horizon_values(store, runs):
    predictor = predict.load(store, runs["sine"])
    window = predict.example_inputs(predictor, 1)
    out = predictor.predict(window)
    assert np.shape(out["predictions"]) == (1, predictor.config.task.horizon)
    assert "probabilities" not in out


def test_a_prompt_is_continued_by_the_asked_number_of_characters(store, runs):
    predictor = predict.load(store, runs["text"])
    text = predictor.generate("the quick", length=40, temperature=0.5, seed=1)
    assert text.startswith("the quick") and len(text) == len("the quick") + 40
    assert predictor.generate("the quick", length=40, temperature=0.5, seed=1) == text


def test_characters_the_model_never_saw_are_named_in_the_refusal(store, runs):
    with pytest.raises(predict.InputError, match="never saw.*'Z'"):
        predict.load(store, runs["text"]).generate("Zebra")


@pytest.mark.parametrize("inputs, message", [
    ([[1.0, 2.0]], "shape \\(1, 8, 8\\)"),
    ([], "non-empty"),
    ([["a"] * 64], "list of examples"),
    ([[float("nan")] * 64], "finite"),
    ([[0.0] * 64] * (predict.MAX_INPUTS + 1), f"at most {predict.MAX_INPUTS}"),
])
def test_input_the_model_cannot_take_is_refused_in_plain_words(store, runs, inputs, message):
    with pytest.raises(predict.InputError, match=message):
        predict.load(store, runs["digits"]).predict(inputs)


def test_the_model_is_loaded_once_and_then_served_from_the_cache(store, runs):
    assert predict.load(store, runs["iris"]) is predict.load(store, runs["iris"])


def test_a_run_without_trained_weights_cannot_be_used(store):
    run_id = store.create_run(make_config("moons", "mlp"))
    with pytest.raises(predict.NoModelError, match="no trained weights"):
        predict.load(store, run_id)


def test_the_model_stays_in_eval_mode_after_predicting_and_generating(store, runs):
    predictor = predict.load(store, runs["text"])
    predictor.generate("the", length=5)
    assert not predictor.model.training


def drawing(height=280, width=280):
    return np.zeros((height, width, 4), dtype=np.uint8)


def test_a_drawn_vertical_stroke_becomes_a_centred_column_of_ink():
    canvas = drawing()
    canvas[40:240, 30:50, 3] = 255            # a "1" drawn near the left edge
    image = predict.image_from_drawing(canvas)
    assert image.shape == (8, 8) and image.max() == pytest.approx(1.0)
    column_ink = image.sum(axis=0)
    assert int(np.argmax(column_ink)) in (3, 4)          # moved to the middle, like the training digits
    assert image[0].sum() < image[4].sum()               # a margin at the top, as in sklearn's digits


def test_an_empty_canvas_is_a_blank_image():
    assert predict.image_from_drawing(drawing()).sum() == 0


def test_the_raw_table_keeps_the_split_of_the_task(store, runs):
    config = RunConfig.from_dict(store.get_run(runs["iris"]).config)
    raw, data = predict.raw_table(config), tasks.load(config.task)
    assert torch.equal(raw.y_test, data.y_test)
    assert raw.extra["feature_names"][0] == "sepal length (cm)"
