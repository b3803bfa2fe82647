"""Own data: CSV tables, texts and image folders are checked, stored once, offered as tasks and trained for real;
hostile files get a plain refusal naming the file, and nothing is written outside the dataset's folder."""
import io
import json
import os
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from modelkit import settings
from modelkit.cli import main
from modelkit.config import ConfigError, make_config
from modelkit.data import uploads
from modelkit.training import loop


def plants_csv(n=300, seed=0) -> bytes:
    """Two numeric columns with gaps, one few-valued text column, a class that depends on all three."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    soil = rng.choice(["clay", "sand", "loam"], size=n)
    kind = np.where(a + b + (soil == "sand") * 1.5 > 0.7, "tall", "short")
    rows = ["height;width;soil;kind"]
    for i in range(n):
        rows.append(f"{'' if i % 17 == 0 else f'{a[i]:.3f}'};{b[i]:.3f};{soil[i]};{kind[i]}")
    return ("\ufeff" + "\n".join(rows)).encode("utf-8")


def digits_zip(per_class=40) -> bytes:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for c in (0, 1, 7):
            for k, img in enumerate(bunch.images[bunch.target == c][:per_class]):
                png = io.BytesIO()
                Image.fromarray((img * 16).clip(0, 255).astype(np.uint8)).resize((16, 16)).save(png, "PNG")
                z.writestr(f"digit{c}/{k}.png", png.getvalue())
    return out.getvalue()


def fit(task, arch, *sets):
    result, _ = loop.run(make_config(task, arch, list(sets)))
    return result


def test_a_csv_with_text_numbers_and_gaps_trains_well_above_chance():
    ds = uploads.add_table(plants_csv(), "plants.csv", target="kind")
    assert (ds.task_kind, ds.rows, ds.class_names, ds.filled) == ("classification", 300, ["short", "tall"], 18)
    assert ds.features[:2] == ["height", "width"] and "soil_sand" in ds.features
    assert fit(ds.task, "mlp", "train.epochs=40").metrics["test_accuracy"] > 0.85


def test_a_regression_csv_predicts_its_number():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 3))
    y = 2 * x[:, 0] - x[:, 1] + 0.1 * rng.normal(size=400)
    text = "a,b,c,y\n" + "\n".join(",".join(f"{v:.4f}" for v in (*row, t)) for row, t in zip(x, y))
    ds = uploads.add_table(text.encode(), "line.csv", target="y")
    assert ds.task_kind == "regression"
    assert fit(ds.task, "mlp", "train.epochs=60").metrics["test_r2"] > 0.9


def test_an_image_zip_of_class_folders_trains_a_cnn():
    ds = uploads.add_images(digits_zip(), "digits.zip")
    assert (ds.kind, ds.class_names, ds.rows) == ("images", ["digit0", "digit1", "digit7"], 120)
    assert fit(ds.task, "cnn", "train.epochs=15").metrics["test_accuracy"] > 0.8


def test_a_text_file_trains_the_language_model_below_the_baseline():
    text = ("the cat sat on the mat. the dog sat on the log. " * 200).encode()
    ds = uploads.add_text(text, "pets.txt")
    result = fit(ds.task, "gru", "train.time_budget=8", "train.eval_every=0", "train.epochs=3")
    assert result.metrics["test_perplexity"] < result.metrics["test_baseline_perplexity"]


def test_the_same_upload_is_stored_once_and_a_run_keeps_pointing_at_it():
    first = uploads.add_table(plants_csv(), "plants.csv", target="kind")
    again = uploads.add_table(plants_csv(), "copy.csv", target="kind")
    assert first.id == again.id and len(uploads.list_datasets()) == 1
    config = make_config(first.task, "mlp")
    assert json.loads(config.to_json())["task"]["name"] == first.task


def test_the_cli_trains_on_a_file_and_lists_it(tmp_path, capsys):
    path = tmp_path / "plants.csv"
    path.write_bytes(plants_csv())
    assert main(["train", "--data", str(path), "--arch", "mlp", "--epochs", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["status"] == "completed" and "test_accuracy" in out["metrics"]
    assert main(["datasets", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["target"] == "kind"


def zip_of(entries) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            z.writestr(info, data)
    return out.getvalue()


PNG = io.BytesIO()
Image.new("L", (8, 8), 128).save(PNG, "PNG")
GOOD = [("a/good.png", PNG.getvalue(), 0o100644), ("b/good.png", PNG.getvalue(), 0o100644)]


def bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a/big.png", b"\0" * (250 * 1024**2))
        z.writestr("b/1.png", PNG.getvalue())
    return out.getvalue()


def huge_png() -> bytes:
    out = io.BytesIO()
    Image.new("1", (5000, 5000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("kind, raw, code", [
    ("images", zip_of([("../evil/1.png", PNG.getvalue(), 0o100644), *GOOD]), "data_zip_path"),
    ("images", zip_of([("/etc/1.png", PNG.getvalue(), 0o100644), *GOOD]), "data_zip_path"),
    ("images", zip_of([("a/link.png", b"/etc/passwd", stat.S_IFLNK | 0o777), *GOOD]), "data_zip_link"),
    ("images", zip_of([("a/inner.zip", b"PK\x05\x06" + b"\0" * 18, 0o100644), *GOOD]), "data_zip_nested"),
    ("images", bomb(), "data_bomb"),
    ("images", b"not a zip at all", "data_not_zip"),
    ("images", zip_of([("a/1.png", b"this is not a png", 0o100644), *GOOD]), "data_not_image"),
    ("images", zip_of([("a/1.png", huge_png(), 0o100644), *GOOD]), "data_image_huge"),
    ("images", zip_of([("a/1.png", PNG.getvalue(), 0o100644)]), "data_one_class"),
    ("table", PNG.getvalue() + b"\0" * 100, "data_binary"),
    ("table", "a,b\n1,é\n".encode("utf-8") + "2,é\n".encode("latin-1"), "data_encoding"),
    ("table", b"", "data_empty"),
    ("table", b"only\n" + b"1\n" * 50, "data_one_column"),
    ("table", b"a,kind\n" + b"1,x\n" * 50, "data_one_class"),
    ("table", b"a,kind\n1,x\n", "data_few_rows"),
    ("text", "短".encode("utf-8") * 10, "data_text_short"),
])
def test_a_hostile_or_broken_file_is_refused_naming_it_and_writes_nothing_outside(tmp_path, kind, raw, code):
    home = settings.home()
    before = set(os.listdir(home)) if home.exists() else set()
    with pytest.raises(ConfigError) as err:
        if kind == "images":
            uploads.add_images(raw, "upload.zip")
        elif kind == "text":
            uploads.add_text(raw, "upload.txt")
        else:
            uploads.add_table(raw, "upload.csv", target="kind")
    assert err.value.code == code and err.value.params["file"].startswith("upload")
    assert "upload" in err.value.text("zh")
    assert (set(os.listdir(home)) if home.exists() else set()) == before   # nothing written, not even a cache
    assert uploads.list_datasets() == []


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MODELKIT_UPLOAD_ROWS", "100")
    with pytest.raises(ConfigError) as err:
        uploads.add_table(plants_csv(n=150), "plants.csv", target="kind")
    assert err.value.code == "data_rows" and err.value.params["n"] == "100"


def test_an_uploaded_table_is_offered_by_the_train_page_and_trains_from_it(app_resources):
    from streamlit.testing.v1 import AppTest

    from modelkit.store import Store

    ds = uploads.add_table(plants_csv(), "plants.csv", target="kind")
    at = AppTest.from_file("../app_pages/train.py", default_timeout=120)
    at.session_state["lang"] = "zh"
    at.session_state["seat"] = {"name": "Ada", "secret": ""}   # as the sidebar's name field sets it
    at.run()
    picker = at.selectbox(key="train_task")
    assert "你的数据：plants.csv" in picker.options
    picker.set_value(ds.task).run()
    assert not at.exception and not at.error
    assert any("预测 kind（2 个类别）" in c.value for c in at.caption)
    at.number_input(key="train_epochs").set_value(2).run()
    at.button(key="train_start").click().run()
    run = Store().get_run(at.session_state["train_run"])
    assert run.task == ds.task and run.owner == "Ada"


def test_a_run_of_a_deleted_dataset_still_opens_on_the_runs_page(app_resources):
    from streamlit.testing.v1 import AppTest

    from modelkit.store import Store

    ds = uploads.add_table(plants_csv(), "plants.csv", target="kind")
    run_id = Store().create_run(make_config(ds.task, "mlp"), owner="Ada")
    assert uploads.delete(ds.id) and uploads.get(ds.id) is None

    def show_run(run_id):
        import streamlit as st

        from modelkit.ui import run_view

        st.session_state["lang"] = "en"
        run_view.show(run_id, "runs", about=True)

    at = AppTest.from_function(show_run, args=(run_id,), default_timeout=120).run()
    assert not at.exception
    assert at.warning[0].value.startswith("This run's settings can no longer be used")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("kind", ["table", "images", "text"])
def test_a_run_on_uploaded_data_exports_a_bundle_that_evaluates_without_modelkit(tmp_path, kind):
    import subprocess
    import sys

    from modelkit.execution.worker import execute_run
    from modelkit.store import Store
    from modelkit.use import export

    if kind == "table":
        ds, arch, sets = uploads.add_table(plants_csv(), "plants.csv", target="kind"), "mlp", ["train.epochs=5"]
    elif kind == "images":
        ds, arch, sets = uploads.add_images(digits_zip(20), "digits.zip"), "cnn", ["train.epochs=2"]
    else:
        ds = uploads.add_text(("the cat sat on the mat. " * 120).encode(), "cat.txt")
        arch, sets = "gru", ["train.epochs=1", "train.time_budget=null", "task.seq_len=16", "train.eval_every=0"]
    store = Store()
    run_id = store.create_run(make_config(ds.task, arch, sets), owner="test", queued=False)
    assert execute_run(store, run_id).status == "completed"
    folder = export.export_run(store, run_id, tmp_path / "bundle")
    done = subprocess.run([sys.executable, "-I", "train.py", "--evaluate"], cwd=folder, capture_output=True,
                          text=True, timeout=300, env={"PATH": os.environ["PATH"], "HOME": str(folder)})
    assert done.returncode == 0, done.stderr[-2000:]
    printed, stored = json.loads(done.stdout.strip().splitlines()[-1]), store.get_run(run_id).metrics
    key = "test_perplexity" if kind == "text" else "test_accuracy"
    assert printed[key] == pytest.approx(stored[key], abs=0.005)


def test_a_zipped_folder_of_class_folders_from_a_mac_trains_a_cnn_above_ninety_percent():
    from uploaded_files import digits_folder_zip

    ds = uploads.add_images(digits_folder_zip(per_class=80), "digits.zip")
    assert (ds.class_names, ds.rows) == ([str(c) for c in range(10)], 800)
    result = fit(ds.task, "cnn", "train.epochs=8", "train.time_budget=null", "model.channels=[8,16]",
                 "model.head=32")
    assert result.metrics["test_accuracy"] > 0.9


def test_try_it_on_an_uploaded_table_shows_one_input_per_column_in_its_own_units():
    from streamlit.testing.v1 import AppTest
    from trained import train_tiny
    from uploaded_files import plants_measured_csv

    from modelkit.store import Store

    ds = uploads.add_table(plants_measured_csv(), "plants.csv", target="kind")
    run_id = train_tiny(Store(), ds.task, "mlp", ["train.epochs=2"])

    def try_it(run_id):
        import streamlit as st

        from modelkit.config import RunConfig
        from modelkit.ui.resources import get_store
        from modelkit.ui.use import use_sections

        st.session_state["lang"] = "en"
        run = get_store().get_run(run_id)
        use_sections(run, RunConfig.from_dict(run.config))

    at = AppTest.from_function(try_it, args=(run_id,), default_timeout=120).run()
    assert not at.exception
    inputs = {n.label: n.value for n in at.number_input}
    assert sorted(inputs) == ["height_mm", "leaf_mass_mg", "leaf_ratio"]
    assert 1000 < inputs["height_mm"] < 2000       # millimetres, not a standardised score
    assert any("tall" in m.value or "short" in m.value for m in at.markdown)
