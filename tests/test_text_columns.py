"""A table with a text column (the soil each plant grew in): a raw row names the soil, by position or by
column name, in Try it and in the service, and the answer is the one its one-hot numbers get."""
import pytest
import uploaded_files as files
from streamlit.testing.v1 import AppTest
from test_serve import call, start
from trained import train_tiny

from modelkit.data import rows, uploads
from modelkit.store import Store
from modelkit.use import predict

INPUTS = [{"name": "height_mm"}, {"name": "soil", "values": ["clay", "loam", "sand"]}, {"name": "leaf_mass_mg"}]


def test_a_row_by_value_or_by_name_becomes_its_one_hot_numbers_and_back():
    as_numbers = [[1500.0, 0.0, 1.0, 0.0, 48_000.0]]
    assert rows.to_numbers(INPUTS, [[1500, "loam", 48_000]]) == as_numbers
    assert rows.to_numbers(INPUTS, [{"soil": "loam", "leaf_mass_mg": 48_000, "height_mm": 1500}]) == as_numbers
    assert rows.to_numbers(INPUTS, as_numbers) == as_numbers           # already numbers: taken as they are
    assert rows.to_people(INPUTS, as_numbers) == [[1500.0, "loam", 48_000.0]]


@pytest.mark.parametrize("row, words", [([1500, "peat", 48_000], "soil must be one of: clay, loam, sand"),
                                        ([1500, "loam"], "each row must have 3 values"),
                                        ({"soil": "loam"}, "missing: height_mm, leaf_mass_mg"),
                                        (["tall", "loam", 48_000], "height_mm must be a number")])
def test_a_row_that_cannot_be_read_is_refused_naming_the_cell(row, words):
    with pytest.raises(ValueError, match=words):
        rows.to_numbers(INPUTS, [row])


@pytest.fixture(scope="module")
def soil(tmp_path_factory):
    """(store, run id, predictor) of an MLP trained on the plants with their soil."""
    import os

    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("MODELKIT_HOME")
    os.environ["MODELKIT_HOME"] = str(home)
    try:
        task = uploads.add_table(files.plants_with_soil_csv(), "plants.csv", target="kind").task
        store = Store(home=home)
        run_id = train_tiny(store, task, "mlp", ["train.epochs=20"])
        yield store, run_id, predict.load(store, run_id), home
    finally:
        os.environ.pop("MODELKIT_HOME") if old is None else os.environ.__setitem__("MODELKIT_HOME", old)


def test_the_soil_is_read_by_its_name_and_changes_the_answer(soil, monkeypatch):
    store, run_id, predictor, home = soil
    monkeypatch.setenv("MODELKIT_HOME", str(home))
    assert [c["name"] for c in predictor.inputs] == ["height_mm", "soil", "leaf_mass_mg"]
    first = predict.example_inputs(predictor, 1)[0]
    assert first[1] in ("clay", "loam", "sand")                       # the example row names its soil
    by_soil = {s: predictor.predict([[first[0], s, first[2]]])["probabilities"][0][1] for s in ("clay", "sand")}
    assert by_soil["sand"] > by_soil["clay"]                          # sand makes plants tall in this file
    numbers = predictor.numbers([[first[0], "sand", first[2]]])
    assert predictor.predict(numbers) == predictor.predict([[first[0], "sand", first[2]]])
    with pytest.raises(predict.InputError, match="soil must be one of"):
        predictor.predict([[first[0], "peat", first[2]]])


def test_the_service_takes_a_row_by_value_and_by_name_and_refuses_an_unknown_soil(soil, monkeypatch):
    store, run_id, predictor, home = soil
    monkeypatch.setenv("MODELKIT_HOME", str(home))
    url, _, stop = start(store, run_id)
    try:
        status, card = call(url + "/")
        by_value = call(url + "/predict", {"inputs": [[1500, "sand", 48_000]]})
        by_name = call(url + "/predict", {"inputs": [{"height_mm": 1500, "soil": "sand", "leaf_mass_mg": 48_000}]})
        refused = call(url + "/predict", {"inputs": [[1500, "peat", 48_000]]})
    finally:
        stop()
    assert status == 200 and card["input"]["columns"][1] == INPUTS[1]
    assert card["example"]["inputs"][0][1] in INPUTS[1]["values"]
    assert by_value == by_name and by_value[0] == 200
    assert by_value[1] == predictor.predict([[1500, "sand", 48_000]])
    assert refused[0] == 422 and "soil must be one of" in refused[1]["error"]


def test_try_it_offers_the_soil_as_its_values_and_answers(soil, monkeypatch, app_resources):
    store, run_id, predictor, home = soil
    monkeypatch.setenv("MODELKIT_HOME", str(home))

    def panel(run_id):
        import streamlit as st

        from modelkit.ui import run_view

        st.session_state["lang"] = "en"
        run_view.panel(run_id, "soil")

    at = AppTest.from_function(panel, args=(run_id,), default_timeout=300).run()
    assert not at.exception
    soil_box = next(s for s in at.selectbox if s.label == "soil")
    assert list(soil_box.options) == ["clay", "loam", "sand"]
    soil_box.set_value("sand").run()
    assert not at.exception
    assert any(m.value.startswith("**The model says:") for m in at.markdown)
