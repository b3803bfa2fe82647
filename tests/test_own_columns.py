"""An uploaded table in its own words (issue 24, items 2-3): the column to predict is guessed the way a
person would, with the reason, and its columns keep their names and units wherever a row is shown."""
import base64
import json

import numpy as np
import pandas as pd
import pytest

from modelkit.cli import main
from modelkit.config import make_config
from modelkit.data import tasks, uploads

SPECIES = {"Adelie": (38.8, 18.3, 190, 3700), "Chinstrap": (48.8, 18.4, 196, 3730), "Gentoo": (47.5, 15.0, 217, 5080)}


def penguins_csv(n=150, seed=0, columns=None) -> bytes:
    """A Palmer-penguins-like table: species first, measurements in mm and g, island, sex, and year last."""
    rng = np.random.default_rng(seed)
    species = rng.choice(list(SPECIES), size=n)
    means = np.array([SPECIES[s] for s in species])
    frame = pd.DataFrame({"species": species, "island": rng.choice(["Biscoe", "Dream", "Torgersen"], size=n),
                          "bill_length_mm": (means[:, 0] + rng.normal(0, 2.5, n)).round(1),
                          "bill_depth_mm": (means[:, 1] + rng.normal(0, 1.0, n)).round(1),
                          "flipper_length_mm": (means[:, 2] + rng.normal(0, 6, n)).round(0).astype(int),
                          "body_mass_g": (means[:, 3] + rng.normal(0, 400, n)).round(-1).astype(int),
                          "sex": rng.choice(["male", "female"], size=n), "year": rng.choice([2007, 2008, 2009], size=n)})
    if columns:
        frame = frame.rename(columns=columns)
    return frame.to_csv(index=False).encode("utf-8")


def values(array) -> np.ndarray:
    """A Plotly figure's array as JSON has it: a list, or {"dtype", "bdata"} (base64 bytes)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array, dtype=float)


def guess(raw: bytes):
    return uploads.guess_target(uploads.read_table(raw, "t.csv"))


def test_penguins_predict_their_species_not_the_year_in_the_last_column():
    assert guess(penguins_csv()) == ("species", "named")


def test_without_a_telling_name_the_first_few_valued_text_column_is_chosen():
    assert guess(penguins_csv(columns={"species": "penguin"})) == ("penguin", "few_text")


def test_an_id_or_a_year_is_never_the_guess():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"id": range(40), "area": rng.normal(80, 20, 40).round(1),
                          "price": rng.normal(300, 50, 40).round(0), "year": rng.choice([1999, 2005, 2011], 40)})
    assert uploads.guess_target(frame) == ("price", "last_number")
    frame["house_id"] = [f"h{i}" for i in range(40)]
    assert uploads.guess_target(frame)[0] == "price"


def test_the_cli_trains_a_csv_on_the_guessed_column(tmp_path, capsys):
    path = tmp_path / "penguins.csv"
    path.write_bytes(penguins_csv())
    assert main(["train", "--data", str(path), "--arch", "mlp", "--epochs", "2", "--json"]) == 0
    capsys.readouterr()
    assert main(["datasets", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["target"] == "species"


@pytest.fixture
def penguins():
    return uploads.add_table(penguins_csv(), "penguins.csv", target="species")


def test_a_table_keeps_its_column_names_and_its_rows_come_back_in_their_units(penguins):
    data = tasks.load(make_config(penguins.task, "mlp").task)
    names = tasks.feature_names(data)
    assert names == ["island_Biscoe", "island_Dream", "island_Torgersen", "bill_length_mm", "bill_depth_mm",
                     "flipper_length_mm", "body_mass_g", "sex_female", "sex_male", "year"]
    mass = names.index("body_mass_g")
    assert abs(float(data.x_train[:, mass].mean())) < 1e-3                   # the model sees standardised columns
    mass = tasks.in_own_units(data, data.x_train)[:, mass]
    assert 3000 < float(mass.mean()) < 6000                                 # the page shows grams again


def test_the_task_preview_plots_two_measured_columns_by_name(penguins, app_resources):
    from streamlit.testing.v1 import AppTest

    def preview(task):
        import streamlit as st

        from modelkit.config import make_config
        from modelkit.ui import task_views

        st.session_state["lang"] = "en"
        task_views.show_preview(make_config(task, "mlp").task)

    at = AppTest.from_function(preview, args=(penguins.task,), default_timeout=60).run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert fig["layout"]["xaxis"]["title"]["text"] == "bill_length_mm"
    assert fig["layout"]["yaxis"]["title"]["text"] == "bill_depth_mm"
    xs = np.concatenate([values(trace["x"]) for trace in fig["data"]])
    assert len(set(xs)) > 20 and 30 < np.mean(xs) < 60                     # many points, in millimetres
