"""Playing with a run while it trains: a new learning rate, a pause, and the boundaries kept for replay."""
import threading
import time

import pytest
import sqlalchemy as sa

from modelkit.config import make_config
from modelkit.data import tasks
from modelkit.execution.worker import LR_SET, StopWatcher, execute_run
from modelkit.models import build
from modelkit.store import SCHEMA_VERSION, Store, schema
from modelkit.training.loop import Callback, Control, fit


@pytest.fixture
def store(tmp_path):
    return Store(home=tmp_path / "home")


@pytest.fixture(scope="module")
def config():
    return make_config("moons", "mlp", ["train.epochs=3", "task.n_samples=200", "train.batch_size=32"])


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


class Steps(Callback):
    """Keeps each step's info; `at(step)` runs a function once that step is done."""

    def __init__(self, actions=None):
        self.steps, self.changes, self.actions = [], [], actions or {}

    def on_step(self, **info):
        self.steps.append(info)
        if info["step"] in self.actions:
            self.actions[info["step"]]()

    def on_lr_change(self, **info):
        self.changes.append(info)


def fit_moons(config, callbacks, control):
    data = tasks.load(config.task)
    return fit(build(config.model, data.spec), data, config.train, callbacks, control=control)


def test_a_new_learning_rate_applies_from_the_next_step_on_top_of_the_schedule(config):
    control = Control()
    steps = Steps({3: lambda: control.set_lr(0.05)})
    fit_moons(config, [steps], control)
    lrs = [s["lr"] for s in steps.steps]
    assert lrs[:3] == [config.train.lr] * 3
    assert set(lrs[3:]) == {0.05}
    assert [(c["step"], c["lr"]) for c in steps.changes] == [(3, 0.05)]


def test_a_pause_holds_the_loop_between_two_steps_and_resume_goes_on_from_there(config):
    class Held(Control):
        holding = threading.Event()

        def hold(self, should_stop=None, poll=0.1):
            self.holding.set()
            return super().hold(should_stop, poll)

    control = Held()
    steps = Steps({5: control.pause})
    result = {}
    thread = threading.Thread(target=lambda: result.update(r=fit_moons(config, [steps], control)))
    thread.start()
    assert control.holding.wait(10)
    assert len(steps.steps) == 5 and thread.is_alive()
    control.resume()
    thread.join(60)
    assert result["r"].status == "completed"
    assert [s["step"] for s in steps.steps] == list(range(1, result["r"].steps + 1))
    assert result["r"].steps == 3 * 5   # 130 training rows in batches of 32: nothing lost, nothing repeated


def test_a_stop_ends_a_paused_run(config):
    control, stop = Control(), threading.Event()
    steps = Steps({2: lambda: (control.pause(), stop.set())})
    data = tasks.load(config.task)
    result = fit(build(config.model, data.spec), data, config.train, [steps], should_stop=stop.is_set,
                 control=control)
    assert (result.status, result.steps) == ("stopped", 2)


def test_the_watcher_carries_the_stores_learning_rate_and_pause_to_the_loop(store, config):
    run_id = store.create_run(config, queued=False)
    watcher = StopWatcher(store, run_id, every=0.05)
    try:
        assert store.set_lr(run_id, 0.02) and store.set_paused(run_id, True)
        wait_for(lambda: watcher.control.lr == 0.02 and watcher.control.paused)
        store.set_paused(run_id, False)
        wait_for(lambda: not watcher.control.paused)
    finally:
        watcher.close()


def test_a_learning_rate_set_in_the_store_is_used_and_recorded(store, config):
    run_id = store.create_run(config)
    assert store.set_lr(run_id, 0.02)   # queued: it applies from the first step
    store.claim_next()
    execute_run(store, run_id)
    points = store.points(run_id)
    assert points.loc[points["name"] == LR_SET, ["step", "value"]].values.tolist() == [[0, 0.02]]
    assert set(points.loc[points["name"] == "lr", "value"]) == {0.02}


def test_a_finished_run_can_be_neither_changed_nor_paused(store, config):
    run_id = store.create_run(config, queued=False)
    store.finish_run(run_id, "completed", "")
    assert not store.set_lr(run_id, 0.1)
    assert not store.set_paused(run_id, True)
    assert store.controls(run_id) == {"lr": None, "paused": False, "stop": False}


def test_each_validation_check_keeps_its_boundary_for_replay(store):
    config = make_config("moons", "mlp", ["train.epochs=4", "task.n_samples=200"])
    run_id = store.create_run(config)
    store.claim_next()
    execute_run(store, run_id)
    kept = store.snapshots(run_id)
    assert [step for step, _ in kept] == [3, 6, 9, 12]   # one check per epoch of 3 steps
    assert kept[0][1]["z"] != kept[-1][1]["z"]


def test_replay_snapshots_are_thinned_to_the_cap_keeping_the_first_and_the_newest(store, config):
    run_id = store.create_run(config, queued=False)
    counts = [store.add_snapshot(run_id, step, {"z": [[step]]}, cap=5) for step in range(1, 13)]
    steps = [step for step, _ in store.snapshots(run_id)]
    assert max(counts) <= 5 and len(steps) <= 5
    assert steps[0] == 1 and steps[-1] == 12


def test_deleting_a_run_deletes_its_controls_and_snapshots(store, config):
    run_id = store.create_run(config, queued=False)
    store.set_lr(run_id, 0.1)
    store.add_snapshot(run_id, 1, {"z": [[0]]}, cap=5)
    store.finish_run(run_id, "completed", "")
    store.delete_run(run_id)
    assert store.snapshots(run_id) == []
    assert store.controls(run_id) == {"lr": None, "paused": False, "stop": False}


def test_a_schema_2_database_is_brought_to_the_current_schema(tmp_path, config, monkeypatch):
    old = Store(home=tmp_path / "old")
    with old.engine.begin() as c:
        c.execute(sa.text("DROP TABLE controls"))
        c.execute(sa.text("DROP TABLE snapshots"))
        c.execute(schema.meta_table.update().values(value="2"))
    old.engine.dispose()
    monkeypatch.setattr(schema.metadata, "create_all", lambda engine: None)   # only the migration adds them
    reopened = Store(home=tmp_path / "old")
    assert reopened.schema_version == SCHEMA_VERSION
    run_id = reopened.create_run(config, queued=False)
    assert reopened.set_lr(run_id, 0.1)


def test_the_cli_sets_the_learning_rate_and_pauses_a_queued_run(config, capsys):
    from modelkit import cli

    run_id = Store().create_run(config)
    assert cli.main(["set", run_id, "train.lr=0.001"]) == 0
    assert cli.main(["pause", run_id]) == 0
    assert Store().controls(run_id) == {"lr": 0.001, "paused": True, "stop": False}
    assert "0.001" in capsys.readouterr().out


@pytest.mark.parametrize("setting", ["train.epochs=3", "train.lr=0", "train.lr"])
def test_the_cli_refuses_what_cannot_change_while_a_run_trains(config, setting, capsys):
    from modelkit import cli

    run_id = Store().create_run(config)
    assert cli.main(["set", run_id, setting]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert Store().controls(run_id)["lr"] is None
