"""Tiny runs trained for real, the way the CLI trains them, for the tests of predict, export and serve."""
from __future__ import annotations

from modelkit.config import make_config
from modelkit.execution.worker import execute_run
from modelkit.store import Store

# task, arch -> settings small enough to train in a few seconds on a shared CPU
TINY = {
    ("digits", "cnn"): ["train.epochs=2", "model.channels=[8,16]", "model.head=32"],
    ("digits", "mlp"): ["train.epochs=2"],
    ("moons", "mlp"): ["train.epochs=3", "task.n_samples=300"],
    ("iris", "mlp"): ["train.epochs=3"],
    ("mnist1d", "gru"): ["train.epochs=1", "model.hidden_size=32", "model.patch=4"],
    ("sine", "gru"): ["train.epochs=2", "task.n_samples=300", "model.hidden_size=16"],
    ("text", "transformer"): ["train.epochs=1", "task.seq_len=16", "model.d_model=32", "model.layers=1",
                              "model.ff_width=64", "train.eval_every=0", "train.time_budget=null"],
}
SMALL_TEXT = "the quick brown fox jumps over the lazy dog. " * 60


def train_tiny(store: Store, task: str, arch: str, sets=()) -> str:
    """A finished run of `arch` on `task`, stored in `store`; its id."""
    extra = [*TINY.get((task, arch), ["train.epochs=1"]), *sets]
    base = {"task": {"text": SMALL_TEXT}} if task == "text" else None
    config = make_config(task, arch, extra, base)
    run_id = store.create_run(config, owner="test", queued=False)
    result = execute_run(store, run_id)
    assert result.status == "completed", result.message
    return run_id
