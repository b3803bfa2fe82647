"""Challenges: a task, the architectures allowed, a budget and locked settings for the whole room."""
from __future__ import annotations

import dataclasses
import json

from modelkit.config import make_config
from modelkit.fields import ConfigError
from modelkit.room.hidden import KINDS, check_hidden, keep_file
from modelkit.room.rules import current_limits
from modelkit.store import Challenge, Store

FIXED = ("task.name", "model.arch")    # a challenge names these itself; they are not "locked settings"


def _value_at(config_dict: dict, path: str):
    section, name = path.split(".", 1)
    return config_dict[section][name]


def parse_locked(text: str) -> list[str]:
    """The host's locked settings, one `key.path=value` a line (blank lines and # comments skipped)."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def create_challenge(store: Store, *, task: str, archs: list[str], budget: float, locked: list[str],
                     deadline: float | None = None, instruction: str = "", title: str = "",
                     hidden: str | None = None, hidden_file: tuple[bytes, str] | None = None) -> str:
    """Check a challenge and keep it; its id goes in the link (?challenge=ID). ConfigError if it cannot be met.

    With `hidden` it is ranked on a hidden test too (modelkit.room.hidden): "held_back" locks its data
    settings ahead of the host's own locked lines; "upload" takes the host's `hidden_file` (bytes, file
    name), a labelled CSV with the columns of the task's table, refused when they do not match."""
    if not archs:
        raise ConfigError("model.arch", "challenge_no_arch")
    check_hidden(task, hidden, hidden_file)
    if hidden:
        locked = KINDS[hidden].locks(task, archs[0]) + [line for line in locked
                                                        if line.split("=", 1)[0].strip() != "task.holdout"]
    limit = current_limits(store).seconds
    if not 0 < budget <= limit:
        raise ConfigError("train.time_budget", "limit_seconds", limit=f"{limit:g}")
    keys = [line.split("=", 1)[0].strip() for line in locked]
    for key in keys:
        if key in FIXED or key == "train.time_budget":
            raise ConfigError(key, "challenge_fixed")
    values = {}
    for arch in archs:   # every allowed architecture must accept every locked value
        data = make_config(task, arch, locked).to_dict()
        values.update({key: _value_at(data, key) for key in keys})
    kept = keep_file(task, hidden_file) if hidden_file is not None else None   # last: a refused challenge keeps none
    return store.create_challenge(task=task, archs=list(archs), budget=float(budget), locked=values,
                                  deadline=deadline, instruction=instruction, title=title, hidden=hidden,
                                  hidden_file=kept)


def find_challenge(store: Store, challenge_id: str) -> Challenge:
    found = store.get_challenge(challenge_id)
    if found is None:
        raise ConfigError("challenge", "no_challenge", challenge=repr(challenge_id)[:40])
    return found


def challenge_config(challenge: Challenge, arch: str | None = None):
    """A run that meets `challenge`: the task x architecture defaults with its locked settings and budget."""
    sets = [f"{key}={json.dumps(value)}" for key, value in challenge.locked.items()]
    return make_config(challenge.task, arch or challenge.archs[0],
                       sets + [f"train.time_budget={challenge.budget}"])


def within_challenge(challenge: Challenge, config):
    """`config` with its time capped at the challenge's budget; refuses one that breaks its rules."""
    if not challenge.open_at():
        raise ConfigError("challenge", "challenge_closed")
    if config.task.name != challenge.task:
        raise ConfigError("task.name", "locked", value=config.task.name)
    if config.arch not in challenge.archs:
        raise ConfigError("model.arch", "challenge_arch", choices=", ".join(challenge.archs))
    data = config.to_dict()
    for key, value in challenge.locked.items():
        if _value_at(data, key) != value:
            raise ConfigError(key, "locked", value=json.dumps(_value_at(data, key)))
    budget = config.train.time_budget
    if budget is not None and budget > challenge.budget:
        raise ConfigError("train.time_budget", "challenge_budget", limit=f"{challenge.budget:g}")
    if budget is None:
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, time_budget=challenge.budget))
    return config
