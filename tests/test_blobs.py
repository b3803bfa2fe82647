"""The store's blobs: what a run reads or writes is kept once by content in the database, each machine's
cache of it can go at any time, what nobody refers to any more goes, a blob too big for the database is
refused in words, and an older home's files move in (tests/old_home.py builds one)."""
import json
import shutil
import sqlite3

import numpy as np
import pytest
import sqlalchemy as sa
from old_home import lay_out_the_old_way
from trained import train_tiny
from uploaded_files import plants_measured_csv

from modelkit.config import make_config
from modelkit.data import blobs, tasks, uploads
from modelkit.fields import ConfigError
from modelkit.store import SCHEMA_VERSION, Store, schema
from modelkit.training.evaluation import report_on_test_set
from modelkit.use import export, predict


def blob_count(store) -> int:
    with store.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(schema.blobs_table)).scalar()


@pytest.fixture
def store(tmp_path):
    return Store(home=tmp_path / "home")


def test_the_same_bytes_under_two_names_are_kept_once_and_go_when_neither_name_keeps_them(store):
    store.blobs.put("a/one", b"the same bytes")
    store.blobs.put("b/two", b"the same bytes")
    assert blob_count(store) == 1
    assert store.blobs.forget("a/") == 0 and store.blobs.read("b/two") == b"the same bytes"
    assert store.blobs.forget("b/") == 1 and blob_count(store) == 0
    assert store.blobs.read("b/two") is None


def test_a_deleted_cache_is_filled_again_from_the_database(store):
    store.blobs.put("run/x/config.json", b"{}")
    shutil.rmtree(store.home / "cache")
    assert store.blobs.read("run/x/config.json") == b"{}"
    assert (store.home / "cache" / "blobs").is_dir()


def test_an_uploaded_dataset_is_read_from_the_database_by_another_machine(store, tmp_path, monkeypatch):
    ds = uploads.add_table(plants_measured_csv(), "plants.csv", target="kind")
    monkeypatch.setenv("MODELKIT_HOME", str(tmp_path / "another"))   # its own folder, the same database
    other = Store(store.url)
    assert other.home != store.home and [d.id for d in uploads.list_datasets()] == [ds.id]
    assert tasks.load(make_config(ds.task, "mlp").task).spec.input_shape == (3,)
    assert (other.home / "cache" / "blobs").is_dir()


def test_deleting_a_dataset_deletes_its_blobs(store):
    ds = uploads.add_table(plants_measured_csv(), "plants.csv", target="kind")
    assert blob_count(store) == 2   # its encoded arrays and its metadata
    assert uploads.delete(ds.id)
    assert uploads.list_datasets() == [] and uploads.get(ds.id) is None and blob_count(store) == 0


def test_a_blob_larger_than_the_database_takes_is_refused_in_plain_words(store):
    def small_values(dbapi_connection, _record):
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100_000)

    sa.event.listen(store.engine, "connect", small_values)
    store.engine.dispose()
    store.blobs = type(store.blobs)(store.engine, store.home)   # asks the database its limit again
    with pytest.raises(ConfigError) as refused:
        store.blobs.put("dataset/abc/data.npz", bytes(200_000))
    assert refused.value.code == "blob_too_big"
    assert refused.value.text("en") == ("data.npz is 0.2 MB, more than the run database takes in one piece "
                                        "(0.1 MB). Choose a smaller model or a smaller file, or a database that "
                                        "takes more (PostgreSQL takes up to 1 GB).")
    assert "data.npz" in refused.value.text("zh") and "0.1 MB" in refused.value.text("zh")
    assert blob_count(store) == 0


def test_weights_too_big_for_the_database_leave_the_run_completed_without_weights_and_say_why(store, monkeypatch):
    monkeypatch.setattr(type(store.blobs), "most", 1_000)   # smaller than any model's weights
    run_id = train_tiny(store, "moons", "mlp")
    run = store.get_run(run_id)
    assert run.status == "completed" and not store.has_weights(run_id)
    assert "The trained weights were not kept:" in run.message and "more than the run database takes" in run.message


@pytest.fixture
def old_home(tmp_path, monkeypatch):
    """(a copy of an older home holding two trained runs, a dataset and a link's text; the run ids, the
    dataset, the text's reference)."""
    store = Store(home=tmp_path / "old")
    ds = uploads.add_table(plants_measured_csv(), "plants.csv", target="kind")
    run_ids = [train_tiny(store, "moons", "mlp"), train_tiny(store, ds.task, "mlp", ["train.epochs=5"])]
    ref = blobs.put_text("a long text that a settings link refers to")
    lay_out_the_old_way(store)
    blobs.keep_in(None)
    copy = tmp_path / "copy"
    shutil.copytree(store.home, copy)
    monkeypatch.setenv("MODELKIT_HOME", str(copy))
    return copy, run_ids, ds, ref


def test_an_old_home_keeps_its_files_as_the_old_code_wrote_them(old_home):
    home, run_ids, ds, ref = old_home
    assert sorted(p.name for p in (home / "artifacts" / run_ids[0]).iterdir()) == ["config.json",
                                                                                   "model.safetensors"]
    assert json.loads((home / "datasets" / ds.id / "meta.json").read_text())["name"] == "plants.csv"
    assert (home / "blobs" / f"{ref}.txt").exists()


def test_an_old_home_moves_into_the_store_on_first_start_and_every_run_opens_evaluates_and_exports(old_home,
                                                                                                  tmp_path):
    home, run_ids, ds, ref = old_home
    store = Store(home=home)
    assert store.schema_version == SCHEMA_VERSION
    assert not (home / "artifacts").exists() and not (home / "datasets").exists() and not (home / "blobs").exists()
    assert [d.id for d in uploads.list_datasets()] == [ds.id]
    assert blobs.get_text(ref) == "a long text that a settings link refers to"
    for run_id in run_ids:
        run = store.get_run(run_id)
        config, data, model = store.load_model(run_id)
        metrics, _ = report_on_test_set(model, data, config.train.loss, "cpu", config.train.seed)
        assert metrics["test_accuracy"] == pytest.approx(run.metrics["test_accuracy"], abs=1e-6)
        predictor = predict.load(store, run_id)
        assert len(predictor.predict(predict.example_inputs(predictor, 4))["predictions"]) == 4
        folder = export.export_run(store, run_id, tmp_path / "out" / run_id)
        assert set(export.BUNDLE_FILES) <= {p.name for p in folder.iterdir()}
    with np.load(tmp_path / "out" / run_ids[1] / "data.npz") as bundled:
        assert bundled["x"].shape == (400, 3)   # the uploaded table travels with its run


def test_a_second_start_of_an_upgraded_home_moves_nothing(old_home):
    home, *_ = old_home
    Store(home=home)
    from modelkit.store.old_home import move_old_files

    assert move_old_files(Store(home=home).blobs, home) == 0
