"""Every control on a run is an action with an owner: the engine refuses someone else's.

    refusal(store, run, "pause", by)     # None, or the ConfigError the action would meet (pages disable it)
    stop(store, run_id, by)              # ... and the same rule applied, for every action below

`by` is the participant acting (their seat's name, or "anonymous"); None is the host (the Host page
with its key, the CLI), who may act on every run. Everyone may view, compare and try every run.
Inside a challenge a locked setting cannot change mid-run either, not even by the host.
"""
from __future__ import annotations

from modelkit.fields import ConfigError
from modelkit.store import Run, Store

ACTIONS = ("stop", "delete", "pause", "lr", "rerun", "export")
LIVE_SETTING = {"lr": "train.lr"}     # the action that changes a setting mid-run, and which one


def refusal(store: Store, run: Run, action: str, by: str | None) -> ConfigError | None:
    """Why `by` may not do `action` to `run`, or None when they may."""
    assert action in ACTIONS, action
    if by is not None and run.owner != by:
        return ConfigError("run", "not_owner", owner=run.owner)
    setting = LIVE_SETTING.get(action)
    if setting and run.challenge:
        challenge = store.get_challenge(run.challenge)
        if challenge is not None and setting in challenge.locked:
            return ConfigError(setting, "locked_live", value=challenge.locked[setting])
    return None


def check(store: Store, run_id: str, action: str, by: str | None) -> Run | None:
    """The run, when `by` may do `action` to it (None when there is no such run); else ConfigError."""
    run = store.get_run(run_id)
    if run is not None:
        refused = refusal(store, run, action, by)
        if refused is not None:
            raise refused
    return run


def stop(store: Store, run_id: str, by: str | None = None) -> bool:
    check(store, run_id, "stop", by)
    return store.request_stop(run_id, by=by)


def delete(store: Store, run_id: str, by: str | None = None) -> bool:
    check(store, run_id, "delete", by)
    return store.delete_run(run_id, by=by)


def pause(store: Store, run_id: str, paused: bool, by: str | None = None) -> bool:
    """Pause (or resume) a run between two steps; False when it is not active."""
    return check(store, run_id, "pause", by) is not None and store.set_paused(run_id, paused)


def change_lr(store: Store, run_id: str, lr: float, by: str | None = None) -> bool:
    """A new base learning rate from the run's next step; False when it is not active."""
    return check(store, run_id, "lr", by) is not None and store.set_lr(run_id, lr)
