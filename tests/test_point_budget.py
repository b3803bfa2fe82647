"""A long run's stored points stay bounded; a short run, the latest steps and every check stay complete."""
import pandas as pd
import pytest

from modelkit.config import make_config
from modelkit.execution import worker
from modelkit.execution.worker import STEP_CURVES, Recorder
from modelkit.store import Store

KEEP_STEPS, RECENT_STEPS = 200, 50   # the budget, scaled down 10x so that a "long" run records in a moment


@pytest.fixture(autouse=True)
def small_budget(monkeypatch):
    monkeypatch.setattr(worker, "KEEP_STEPS", KEEP_STEPS)
    monkeypatch.setattr(worker, "RECENT_STEPS", RECENT_STEPS)


@pytest.fixture
def store(tmp_path):
    return Store(home=tmp_path)


def record(store, steps: int, flush_every: int = 10, eval_every: int = 25) -> str:
    """A run trained for `steps` steps as the worker records it: a flush every `flush_every` steps."""
    run_id = store.create_run(make_config("moons", "mlp"), queued=False)
    recorder = Recorder(store, run_id)
    for step in range(1, steps + 1):
        recorder.on_step(step, step / 100, step / 200, 1 / step, 0.003, 1e4)
        if step % eval_every == 0:
            recorder.on_eval(step, step / 100, step / 200, {"val_loss": 0.5, "val_accuracy": 0.9})
        if step % flush_every == 0:
            recorder.flush()
    recorder.flush()
    return run_id


def steps_of(points: pd.DataFrame, name: str) -> list[int]:
    return sorted(points.loc[points["name"] == name, "step"])


def test_a_short_run_keeps_every_step(store):
    points = store.points(record(store, KEEP_STEPS))
    for name in STEP_CURVES:
        assert steps_of(points, name) == list(range(1, KEEP_STEPS + 1))


@pytest.mark.parametrize("steps", [2_000, 6_000])
def test_a_long_run_keeps_a_bounded_even_sample_and_its_latest_steps_in_full(store, steps):
    points = store.points(record(store, steps, flush_every=50))
    loss = steps_of(points, "loss")
    assert len(loss) <= KEEP_STEPS + 2 * RECENT_STEPS
    assert loss[0] == 1 and loss[-RECENT_STEPS:] == list(range(steps - RECENT_STEPS + 1, steps + 1))
    early = [s for s in loss if 1 < s <= steps - 2 * RECENT_STEPS]
    assert len({b - a for a, b in zip(early, early[1:])}) == 1   # one stride through the early steps
    assert steps_of(points, "lr") == loss == steps_of(points, "samples_per_s")


def test_a_long_run_keeps_every_validation_check(store):
    points = store.points(record(store, 2_000, flush_every=50))
    assert steps_of(points, "val_accuracy") == list(range(25, 2_001, 25))


def test_postgresql_thins_a_long_run_as_sqlite_does(tmp_path, postgres_url):
    sqlite, postgres = Store(home=tmp_path / "a"), Store(postgres_url, home=tmp_path / "b")
    assert steps_of(sqlite.points(record(sqlite, 2_000)), "loss") == steps_of(postgres.points(record(postgres, 2_000)),
                                                                               "loss")


def test_the_bundle_card_says_curves_csv_holds_every_step_of_a_short_run(store):
    from modelkit.use import export

    tx = export._texts("en")
    assert export.curves_text(store.points(record(store, KEEP_STEPS)), tx) == tx["card.curves.full"]


def test_the_bundle_card_says_which_steps_a_long_run_kept(store):
    from modelkit.use import export

    points = store.points(record(store, 2_000, flush_every=50))
    loss = steps_of(points, "loss")
    stride = loss[2] - loss[1]
    recent = len(loss) - next(i for i in range(len(loss) - 1, 0, -1) if loss[i] - loss[i - 1] > 1)
    text = export.curves_text(points, export._texts("en"))
    assert f"last {recent:,} steps" in text and f"one step in every {stride} " in text and stride > 1
