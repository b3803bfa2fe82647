"""The run store: runs, points, stop flags, recovery and artifacts, on a real SQLite file and a real PostgreSQL."""
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from modelkit.config import make_config
from modelkit.execution.worker import FLUSH_EVERY_S, Recorder, execute_run
from modelkit.store import HOST, SCHEMA_VERSION, Store, StoreError, database, schema


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """Each store test runs on both databases: SQLite under MODELKIT_HOME, and a fresh PostgreSQL database."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    return Store(url, home=tmp_path / "home")


@pytest.fixture(scope="module")
def config():
    return make_config("moons", "mlp", ["train.epochs=2", "task.n_samples=200"])


def write_points(url, home, run_id, batches, size):
    """A writer in another process: `batches` transactions of `size` points each."""
    writer = Store(url, home)
    step = 0
    for _ in range(batches):
        points = []
        for _ in range(size):
            step += 1
            points.append((step, step / 10, step / 100, "loss", 1.0 / step))
        writer.record(run_id, points, progress={"step": step})
        time.sleep(0.002)


def test_a_new_run_is_queued_with_its_config_and_queue_position(store, config):
    first = store.create_run(config, owner="ada")
    second = store.create_run(config, owner="ben")
    run = store.get_run(second)
    assert (run.status, run.owner, run.task, run.arch) == ("queued", "ben", "moons", "mlp")
    assert run.config == config.to_dict()
    assert store.get_run(first).queue_position == 1 and run.queue_position == 2
    assert [r.id for r in store.list_runs()] == [second, first]   # newest first
    assert [r.queue_position for r in store.list_runs()] == [2, 1]


def test_run_ids_are_short_readable_and_unique(store, config):
    ids = {store.create_run(config) for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) == 24 and i[8] == "-" and i[15] == "-" for i in ids)


def test_two_hundred_runs_submitted_from_eight_threads_at_once_get_distinct_ids(config):
    store = Store()   # the real SQLite store under this test's MODELKIT_HOME
    start = threading.Barrier(8)

    def submit_25(owner):
        start.wait()
        return [store.create_run(config, owner=owner) for _ in range(25)]

    with ThreadPoolExecutor(8) as pool:
        ids = [i for batch in pool.map(submit_25, [f"p{n}" for n in range(8)]) for i in batch]
    assert len(set(ids)) == 200
    assert len(store.list_runs(status="queued")) == 200


def test_a_run_id_taken_meanwhile_is_replaced_by_a_fresh_one(store, config, monkeypatch):
    drawn = iter(["20261129-140512-0000aaaa", "20261129-140512-0000aaaa", "20261129-140512-0000bbbb"])
    monkeypatch.setattr(database, "new_run_id", lambda: next(drawn))
    assert store.create_run(config) == "20261129-140512-0000aaaa"
    assert store.create_run(config) == "20261129-140512-0000bbbb"
    assert len(store.list_runs()) == 2


def test_the_database_is_sqlite_in_wal_mode_under_modelkit_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELKIT_HOME", str(tmp_path / "mk"))
    store = Store()
    assert (tmp_path / "mk" / "modelkit.db").exists()
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_modelkit_db_url_replaces_the_default_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("MODELKIT_DB_URL", url)
    assert Store().url == url
    assert (tmp_path / "elsewhere.db").exists()


def test_the_schema_version_is_recorded_and_a_newer_one_refused(store):
    assert store.schema_version == SCHEMA_VERSION
    with store.engine.begin() as c:
        c.execute(schema.meta_table.update().values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(StoreError, match="newer modelkit"):
        Store(store.url, store.home)


def test_points_after_an_id_are_only_the_newer_ones(store, config):
    run_id = store.create_run(config)
    store.record(run_id, [(1, 0.1, 0.01, "loss", 2.0), (1, 0.1, 0.01, "lr", 0.1)])
    first = store.points(run_id)
    store.record(run_id, [(2, 0.2, 0.02, "loss", 1.5)])
    newer = store.points(run_id, after_id=int(first.id.max()))
    assert list(first.columns) == ["id", "step", "epoch", "seconds", "name", "value"]
    assert list(first.name) == ["loss", "lr"]
    assert newer[["step", "name", "value"]].values.tolist() == [[2, "loss", 1.5]]
    assert store.points(run_id, after_id=int(newer.id.max())).empty


def test_a_run_s_points_are_numbered_one_two_three_whatever_other_runs_write_between(store, config):
    first, second = store.create_run(config), store.create_run(config)
    store.record(first, [(1, 0.1, 0.01, "loss", 2.0), (1, 0.1, 0.01, "lr", 0.1)])
    store.record(second, [(1, 0.1, 0.01, "loss", 3.0)])
    store.record(first, [(2, 0.2, 0.02, "loss", 1.5)])
    assert store.points(first).id.tolist() == [1, 2, 3]
    assert store.points(second).id.tolist() == [1]


def test_a_reader_polling_during_writes_gets_each_point_exactly_once(store, config):
    run_id = store.create_run(config)
    writer = multiprocessing.get_context("spawn").Process(
        target=write_points, args=(store.url, str(store.home), run_id, 60, 7))
    writer.start()
    seen, last = [], 0
    while writer.is_alive() or last < 420:
        batch = store.points(run_id, after_id=last)
        if not batch.empty:
            seen += batch.step.tolist()
            last = int(batch.id.max())
        if not writer.is_alive() and batch.empty:
            break
        time.sleep(0.005)
    writer.join()
    assert writer.exitcode == 0
    assert seen == list(range(1, 421))


def test_live_holds_the_latest_progress_and_boundary(store, config):
    run_id = store.create_run(config)
    assert store.live(run_id) == {"progress": {}, "boundary": None}
    boundary = {"xs": [0, 1], "ys": [0, 1], "probs": [[0.1, 0.9], [0.4, 0.6]]}
    store.record(run_id, [], progress={"step": 3, "max_steps": 10}, boundary=boundary)
    store.record(run_id, [], progress={"step": 5, "max_steps": 10})
    assert store.live(run_id) == {"progress": {"step": 5, "max_steps": 10}, "boundary": boundary}


def test_runs_are_claimed_oldest_first_and_only_once(store, config):
    ids = [store.create_run(config) for _ in range(3)]
    assert [store.claim_next(), store.claim_next(), store.claim_next(), store.claim_next()] == ids + [None]
    assert {store.get_run(i).status for i in ids} == {"running"}


def test_stopping_a_queued_run_stops_it_before_it_starts(store, config):
    run_id = store.create_run(config)
    assert store.request_stop(run_id)
    run = store.get_run(run_id)
    assert (run.status, run.message) == ("stopped", "Stopped before it started.")
    assert store.claim_next() is None


def test_stopping_a_running_run_sets_its_flag(store, config):
    run_id = store.create_run(config)
    store.claim_next()
    assert not store.stop_requested(run_id)
    assert store.request_stop(run_id)
    assert store.stop_requested(run_id) and store.get_run(run_id).status == "running"
    assert set(store.stop_requests([run_id])) == {run_id}


def test_a_finished_status_is_not_overwritten_by_a_late_writer(store, config):
    run_id = store.create_run(config)
    store.claim_next()
    assert store.finish_run(run_id, "interrupted", "server restarted")
    assert not store.finish_run(run_id, "completed", "late")
    assert store.get_run(run_id).status == "interrupted"


def test_recovery_interrupts_runs_of_a_vanished_process_and_keeps_queued_ones(store, config):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    orphan, alive, queued = (store.create_run(config) for _ in range(3))
    store.claim_next(server_pid=gone.pid)
    store.claim_next(server_pid=os.getpid())
    assert store.recover_orphans() == [orphan]
    assert store.get_run(orphan).status == "interrupted"
    assert "stopped before the run finished" in store.get_run(orphan).message
    assert store.get_run(alive).status == "running"
    assert store.get_run(queued).status == "queued"


def test_recovery_interrupts_a_run_whose_heartbeat_went_stale(store, config):
    run_id = store.create_run(config)
    store.claim_next()
    with store.engine.begin() as c:
        c.execute(schema.runs_table.update().values(heartbeat=time.time() - 600))
    assert store.recover_orphans() == [run_id]


def test_deleting_a_run_removes_its_points_and_artifacts(store, config):
    run_id = store.create_run(config, queued=False)
    execute_run(store, run_id)
    assert store.has_weights(run_id)
    assert store.delete_run(run_id)
    assert store.get_run(run_id) is None
    assert store.points(run_id).empty
    assert not store.has_weights(run_id) and store.blobs.names(f"run/{run_id}/") == []
    with store.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(schema.blobs_table)).scalar() == 0
    assert not store.delete_run(run_id)


def test_deleting_a_training_run_is_refused(store, config):
    run_id = store.create_run(config, queued=False)
    with pytest.raises(StoreError, match="stop it first"):
        store.delete_run(run_id)


def test_a_recorded_run_keeps_every_step_metrics_details_and_artifacts(store, config):
    run_id = store.create_run(config, queued=False)
    result = execute_run(store, run_id)
    run = store.get_run(run_id)
    loss = store.points(run_id, names=["loss"])
    assert run.status == "completed" and run.finished is not None
    assert loss.step.tolist() == list(range(1, result.steps + 1))
    assert run.metrics["test_accuracy"] == result.metrics["test_accuracy"]
    assert run.params == result.params and run.device == "cpu"
    assert "confusion_matrix" in run.details
    assert not store.points(run_id, names=["val_loss"]).empty
    assert json.loads(store.artifact(run_id, "config.json")) == config.to_dict()
    assert store.blobs.names(f"run/{run_id}/") == [f"run/{run_id}/config.json", f"run/{run_id}/model.safetensors"]


def test_a_two_dimensional_run_shows_its_decision_boundary_live_and_in_its_details(store):
    run_id = store.create_run(make_config("xor", "mlp", ["train.epochs=2"]), queued=False)
    execute_run(store, run_id)
    live, details = store.live(run_id)["boundary"], store.get_run(run_id).details["boundary"]
    assert len(live["z"]) == len(live["ys"]) and len(live["z"][0]) == len(live["xs"])
    assert all(0.0 <= v <= 1.0 for row in live["z"] for v in row)
    assert details["xs"] == live["xs"] and details["n_classes"] == 2


def test_a_run_on_more_than_two_inputs_has_no_decision_boundary(store):
    run_id = store.create_run(make_config("iris", "mlp", ["train.epochs=2"]), queued=False)
    execute_run(store, run_id)
    assert store.live(run_id)["boundary"] is None
    assert "boundary" not in store.get_run(run_id).details


def test_the_recorder_writes_in_batches_not_per_step(store):
    config = make_config("moons", "mlp", ["train.epochs=20", "task.n_samples=400"])
    run_id = store.create_run(config, queued=False)
    writes = []

    class CountingRecorder(Recorder):
        def flush(self):
            writes.append(len(self.steps))
            super().flush()

    recorder = CountingRecorder(store, run_id)
    from modelkit.training.loop import run as train_run

    result, _ = train_run(config, [recorder])
    assert store.points(run_id, names=["loss"]).step.tolist() == list(range(1, result.steps + 1))
    assert len(writes) <= 3 + result.seconds / FLUSH_EVERY_S   # begin, first step, end, and one per interval


def test_a_failing_run_is_marked_failed_with_a_plain_message(store, config, monkeypatch):
    import modelkit.training.loop

    def broken_fit(*args, **kwargs):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    monkeypatch.setattr(modelkit.training.loop, "fit", broken_fit)
    run_id = store.create_run(config, queued=False)
    with pytest.raises(RuntimeError):
        execute_run(store, run_id)
    run = store.get_run(run_id)
    assert run.status == "failed"
    assert run.message == "The run failed with an error: RuntimeError: mat1 and mat2 shapes cannot be multiplied"
    assert "Traceback" in run.details["traceback"]


def test_weights_are_safetensors_never_pickle(store, config):
    from safetensors.torch import load_file

    run_id = store.create_run(config, queued=False)
    execute_run(store, run_id)
    weights = load_file(str(store.weights_file(run_id)))
    assert weights and all(hasattr(t, "shape") for t in weights.values())
    with store.engine.connect() as c:
        tables = set(sa.inspect(c).get_table_names())
    assert tables == {"meta", "runs", "points", "live", "challenges", "controls", "snapshots", "seats", "blobs",
                      "blob_names", "lessons", "gallery", "hidden_scores"}


def test_a_store_made_before_points_were_numbered_per_run_numbers_them_in_order(tmp_path, config):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store(url, tmp_path)
    first, second = old.create_run(config), old.create_run(config)
    for step in (1, 2):
        old.record(first, [(step, 0.0, 0.0, "loss", 1.0)])
        old.record(second, [(step, 0.0, 0.0, "loss", 2.0)])
    with old.engine.begin() as c:   # as an older modelkit left it: no per-run number, no node, schema 3
        c.exec_driver_sql("DROP INDEX points_by_seq")
        c.exec_driver_sql("ALTER TABLE points DROP COLUMN seq")
        c.exec_driver_sql("ALTER TABLE runs DROP COLUMN node")
        c.exec_driver_sql("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    upgraded = Store(url, tmp_path)
    assert upgraded.points(second).id.tolist() == [1, 2]
    assert upgraded.points(second, after_id=1).value.tolist() == [2.0]
    assert upgraded.get_run(first).node is None
    assert upgraded.schema_version == SCHEMA_VERSION


def test_a_database_of_a_newer_modelkit_is_refused_before_anything_is_altered(tmp_path):
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    newer = Store(url, tmp_path)
    with newer.engine.begin() as c:   # a newer modelkit that has no controls table and no runs.node
        c.exec_driver_sql("DROP TABLE controls")
        c.exec_driver_sql("ALTER TABLE runs DROP COLUMN node")
        c.execute(schema.meta_table.update().values(value=str(SCHEMA_VERSION + 1)))
    newer.engine.dispose()
    with pytest.raises(StoreError, match="newer modelkit"):
        Store(url, tmp_path)
    with newer.engine.connect() as c:
        inspector = sa.inspect(c)
        assert "controls" not in inspector.get_table_names()
        assert "node" not in {col["name"] for col in inspector.get_columns("runs")}
        assert schema.stored_version(c) == SCHEMA_VERSION + 1


def test_a_database_of_schema_5_learns_who_stopped_a_run(tmp_path, config):
    url = f"sqlite:///{tmp_path / 'five.db'}"
    old = Store(url, tmp_path)
    earlier = old.create_run(config)
    with old.engine.begin() as c:   # as schema 5 left it: a stop remembered when, not who
        c.exec_driver_sql("ALTER TABLE runs DROP COLUMN stopped_by")
        c.exec_driver_sql("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    old.engine.dispose()
    upgraded = Store(url, tmp_path)
    assert upgraded.schema_version == SCHEMA_VERSION and upgraded.get_run(earlier).stopped_by is None
    upgraded.request_stop(earlier)   # the host: by None
    assert upgraded.get_run(earlier).stopped_by == HOST


def test_a_database_from_before_versions_were_recorded_takes_every_step(tmp_path, config):
    url = f"sqlite:///{tmp_path / 'oldest.db'}"
    old = Store(url, tmp_path)
    run_id = old.create_run(config)
    with old.engine.begin() as c:   # no meta table, no challenges, no controls or snapshots
        for table in ("meta", "challenges", "controls", "snapshots"):
            c.exec_driver_sql(f"DROP TABLE {table}")
        c.exec_driver_sql("ALTER TABLE runs DROP COLUMN challenge")
    old.engine.dispose()
    upgraded = Store(url, tmp_path)
    assert upgraded.schema_version == SCHEMA_VERSION and upgraded.get_run(run_id).challenge is None
    with upgraded.engine.connect() as c:
        assert {"challenges", "controls", "snapshots"} <= set(sa.inspect(c).get_table_names())
