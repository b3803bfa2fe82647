"""A hidden test from a file only the host sees: a host uploads a table, attaches labelled rows of their own to a
challenge on it, participants train through the real runner and are ranked on those rows, which they can
neither list, train on nor read."""
import dataclasses
import io

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import torch
from polling import wait_until
from uploaded_files import plants_measured_csv, plants_with_soil_csv

from modelkit import room
from modelkit.config import make_config
from modelkit.data import blobs, hidden_file, tasks, uploads
from modelkit.execution.runner import Runner
from modelkit.execution.worker import execute_run
from modelkit.fields import ConfigError
from modelkit.room import hidden
from modelkit.store import SCHEMA_VERSION, Store, schema

EXAM = plants_measured_csv(n=80, seed=5)   # the host's own rows: other plants, measured the same way


@pytest.fixture(scope="module")
def room_store(tmp_path_factory):
    return Store(home=tmp_path_factory.mktemp("home"))


@pytest.fixture
def store(room_store):
    """The file's room, whose blobs (the tables, the host's file) every test reads by name."""
    blobs.keep_in(room_store.blobs)
    return room_store


@pytest.fixture(scope="module")
def room_with_exam(room_store):
    """(dataset, challenge, {participant: run id}): the host's table, a challenge ranked on EXAM, and a
    finished run of each of two participants, trained by the runner's worker processes."""
    store = room_store
    blobs.keep_in(store.blobs)
    ds = uploads.add_table(plants_measured_csv(n=300, seed=0), "plants.csv", target="kind", owner="host")
    made = store.get_challenge(room.create_challenge(store, task=ds.task, archs=["mlp", "linear"], budget=20,
                                                     locked=[], hidden=hidden.UPLOAD,
                                                     hidden_file=(EXAM, "exam.csv")))
    runner = Runner(store, workers=2)
    try:
        assert runner.wait_ready(120), "the worker processes did not start"
        runs = {}
        for owner, arch in (("ana", "mlp"), ("ben", "linear")):
            config = room.challenge_config(made, arch)
            config = dataclasses.replace(config, train=dataclasses.replace(config.train, epochs=5))
            runs[owner] = runner.submit(config, owner=owner, by=owner, challenge=made.id)
        wait_until(lambda: all(store.get_run(r).status == "completed" for r in runs.values())
                   and set(hidden.hidden_scores(store, made)) == set(runs.values()), 180, what="both runs scored")
    finally:
        runner.shutdown()
    return ds, made, runs


def exam_rows(ds) -> tuple[np.ndarray, np.ndarray]:
    """EXAM read on its own, the way a reader of the file would: inputs in the table's order, class ids."""
    frame = pd.read_csv(io.BytesIO(EXAM))
    x = frame[[c["name"] for c in ds.inputs]].to_numpy(dtype=np.float32)
    return x, frame[ds.target].map({name: i for i, name in enumerate(ds.class_names)}).to_numpy()


def test_each_participant_is_scored_on_exactly_the_hosts_rows(store, room_with_exam):
    ds, made, runs = room_with_exam
    scores = hidden.hidden_scores(store, made)
    x, y = exam_rows(ds)
    for run_id in runs.values():
        _, data, model = store.load_model(run_id)
        scaled = (torch.from_numpy(x) - data.extra["feature_mean"]) / data.extra["feature_std"]
        with torch.no_grad():
            accuracy = float((model.eval()(scaled).argmax(-1).numpy() == y).mean())
        assert scores[run_id] == pytest.approx(accuracy, abs=1e-6)
    board = hidden.hidden_board(store, made)
    assert sorted(board.participant) == ["ana", "ben"] and list(board.score) == sorted(scores.values(), reverse=True)


def test_no_participants_data_holds_a_hidden_row(store, room_with_exam):
    ds, made, runs = room_with_exam
    x, _ = exam_rows(ds)
    exam = {row.tobytes() for row in x}
    for run_id in runs.values():
        data = tasks.load(room.challenge_config(made).task)
        own = torch.cat([data.x_train, data.x_val, data.x_test])
        assert len(own) == ds.rows == 300   # every row a run sees is one of the table's, and all of them
        seen = tasks.in_own_units(data, own).numpy()
        assert not (np.abs(seen[:, None, :] - x[None]) <= 1e-3 * np.abs(x[None])).all(-1).any()
    assert not exam & {row.tobytes() for row in uploads.arrays(ds)["x"]}


def test_a_participant_cannot_list_train_on_or_read_the_hidden_file(store, room_with_exam):
    ds, made, _ = room_with_exam
    kept = hidden_file.get(made.hidden_file)
    assert (kept.name, kept.rows, kept.task) == ("exam.csv", 80, ds.task)
    assert [d.task for d in uploads.list_datasets()] == [ds.task]   # every picker's list, the CLI's `datasets`
    assert uploads.get(made.hidden_file) is None and uploads.from_task(f"ds-{made.hidden_file}") is None
    with pytest.raises(ConfigError) as refused:
        room.admit(store, make_config(f"ds-{made.hidden_file}", "mlp"), owner="ana", by="ana")
    assert refused.value.code == "unknown_task"
    with pytest.raises(ConfigError) as refused:
        hidden.hidden_data(made, by="ana")
    assert refused.value.code == "host_only"
    x, y = hidden.hidden_data(made, by=None)   # the host's own rows, for the host
    assert np.array_equal(x, exam_rows(ds)[0]) and np.array_equal(y, exam_rows(ds)[1])


def test_a_file_without_the_challenges_columns_is_refused_in_both_languages(store):
    ds = uploads.add_table(plants_measured_csv(n=300, seed=0), "plants.csv", target="kind")
    before = len(store.list_challenges())
    with pytest.raises(ConfigError) as refused:
        room.create_challenge(store, task=ds.task, archs=["mlp"], budget=20, locked=[], hidden=hidden.UPLOAD,
                              hidden_file=(plants_with_soil_csv(n=40, seed=5), "soil.csv"))
    assert refused.value.code == "hidden_file_columns"
    assert refused.value.text("en") == (
        "soil.csv does not have the columns of the challenge's data. It needs exactly: height_mm, leaf_mass_mg, "
        "leaf_ratio, kind. Missing: leaf_ratio. Not in the challenge's data: soil.")
    assert "soil.csv 的列与挑战的数据不一致" in refused.value.text("zh") and "leaf_ratio" in refused.value.text("zh")
    assert len(store.list_challenges()) == before   # nothing kept of a refused challenge


def test_a_file_of_the_challenges_own_rows_is_refused(store):   # its first 40 rows
    ds = uploads.add_table(plants_measured_csv(n=300, seed=0), "plants.csv", target="kind")
    with pytest.raises(ConfigError) as refused:
        room.create_challenge(store, task=ds.task, archs=["mlp"], budget=20, locked=[], hidden=hidden.UPLOAD,
                              hidden_file=(b"\n".join(plants_measured_csv(n=300, seed=0).split(b"\n")[:41]), "same.csv"))
    assert (refused.value.code, refused.value.params["n"]) == ("hidden_file_seen", 40)


def test_a_class_the_data_does_not_have_is_refused(store):
    ds = uploads.add_table(plants_measured_csv(n=300, seed=0), "plants.csv", target="kind")
    odd = EXAM.replace(b",tall", b",huge", 1)
    with pytest.raises(ConfigError) as refused:
        room.create_challenge(store, task=ds.task, archs=["mlp"], budget=20, locked=[], hidden=hidden.UPLOAD,
                              hidden_file=(odd, "odd.csv"))
    assert refused.value.text("en") == "odd.csv: huge is not a class of the challenge's data; its classes are: short, tall."


def test_a_task_that_is_not_a_table_cannot_take_a_file(store):
    with pytest.raises(ConfigError) as refused:
        room.create_challenge(store, task="moons", archs=["mlp"], budget=20, locked=[], hidden=hidden.UPLOAD,
                              hidden_file=(EXAM, "exam.csv"))
    assert refused.value.code == "hidden_file_task"
    with pytest.raises(ConfigError) as refused:
        room.create_challenge(store, task="iris", archs=["mlp"], budget=20, locked=[], hidden=hidden.UPLOAD)
    assert refused.value.code == "hidden_file_none"


def test_a_built_in_tables_hidden_file_has_its_columns_and_class_names(store):
    from sklearn.datasets import load_iris

    bunch = load_iris()
    frame = pd.DataFrame(bunch.data[::5] + 0.05, columns=bunch.feature_names)   # measured again: new rows
    frame["target"] = bunch.target_names[bunch.target[::5]]
    made = store.get_challenge(room.create_challenge(store, task="iris", archs=["mlp"], budget=20, locked=[],
                                                     hidden=hidden.UPLOAD,
                                                     hidden_file=(frame.to_csv(index=False).encode(), "iris.csv")))
    assert made.locked == {}   # its rows are the file's: the data's settings stay the participants'
    config = room.admit(store, make_config("iris", "mlp", ["train.epochs=3", "task.seed=4"]), owner="ana",
                        by="ana", challenge=made.id)
    run_id = store.create_run(config, owner="ana", queued=False, challenge=made.id)
    assert execute_run(store, run_id).status == "completed"
    x, y = hidden.hidden_rows(config, made)
    assert len(x) == 30 and torch.equal(y, torch.from_numpy(bunch.target[::5]))
    assert 0 <= store.hidden_scores(made.id)[run_id] <= 1


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    return request.getfixturevalue("postgres_url") if request.param == "postgresql" else \
        f"sqlite:///{tmp_path / 'eight.db'}"


def test_a_database_of_schema_8_learns_a_challenges_hidden_file(database_url, tmp_path):
    old = Store(database_url, tmp_path)
    made = old.create_challenge(task="moons", archs=["mlp"], budget=10.0, locked={}, hidden=hidden.HELD_BACK)
    with old.engine.begin() as c:   # as schema 8 left it: a hidden test of one kind, no file
        c.execute(sa.text("ALTER TABLE challenges DROP COLUMN hidden_file"))
        c.execute(schema.meta_table.update().values(value="8").where(schema.meta_table.c.key == "schema_version"))
    old.engine.dispose()
    upgraded = Store(database_url, tmp_path)
    assert upgraded.schema_version == SCHEMA_VERSION == 9
    kept = upgraded.get_challenge(made)
    assert (kept.hidden, kept.hidden_file) == (hidden.HELD_BACK, None)
    again = upgraded.create_challenge(task="iris", archs=["mlp"], budget=10.0, locked={}, hidden=hidden.UPLOAD,
                                      hidden_file="3f2a9c0d1e4b")
    assert upgraded.get_challenge(again).hidden_file == "3f2a9c0d1e4b"


def test_the_cli_creates_a_challenge_with_a_hidden_file_and_refuses_a_mismatched_one(tmp_path, capsys):
    from modelkit.cli import main

    ds = uploads.add_table(plants_measured_csv(n=300, seed=0), "plants.csv", target="kind")
    (tmp_path / "exam.csv").write_bytes(EXAM)
    (tmp_path / "soil.csv").write_bytes(plants_with_soil_csv(n=40, seed=5))
    assert main(["challenge", "--task", ds.task, "--arch", "mlp", "--budget", "20",
                 "--hidden-file", str(tmp_path / "exam.csv")]) == 0
    made = Store().get_challenge(capsys.readouterr().out.strip())
    assert (made.hidden, hidden_file.get(made.hidden_file).rows) == (hidden.UPLOAD, 80)
    assert main(["challenge", "--task", ds.task, "--arch", "mlp", "--hidden-file", str(tmp_path / "soil.csv")]) == 2
    assert capsys.readouterr().err.startswith("error: challenge.hidden_file: soil.csv does not have the columns")
    assert len(Store().list_challenges()) == 1


def test_a_text_columns_cells_are_read_by_value_and_one_it_never_has_is_refused(store):
    ds = uploads.add_table(plants_with_soil_csv(n=300, seed=0), "soil.csv", target="kind")
    exam = plants_with_soil_csv(n=40, seed=5)
    made = store.get_challenge(room.create_challenge(store, task=ds.task, archs=["mlp"], budget=20, locked=[],
                                                     hidden=hidden.UPLOAD, hidden_file=(exam, "exam.csv")))
    frame = pd.read_csv(io.BytesIO(exam))
    x, _ = hidden.hidden_data(made, by=None)
    first = [frame.height_mm[0], *(float(frame.soil[0] == s) for s in ("clay", "loam", "sand")), frame.leaf_mass_mg[0]]
    assert x.shape == (40, 5) and np.allclose(x[0], first)   # the soil one-hot, in the table's order
    with pytest.raises(ConfigError) as refused:
        hidden_file.add(exam.replace(b",loam,", b",peat,", 1), "odd.csv", ds.task)
    assert refused.value.text("en") == "odd.csv: column soil holds peat, which the challenge's data never has; " \
                                       "it takes one of: clay, loam, sand."
    with pytest.raises(ConfigError) as refused:
        hidden_file.add(exam.replace(b",loam,", b",,", 1), "gap.csv", ds.task)
    assert refused.value.code == "hidden_file_gap" and refused.value.params["column"] == "soil"
