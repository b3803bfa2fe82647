"""A workshop room: participants, the host and their key, the limits that keep a room fair, challenges.

    key = host_key()                     # MODELKIT_HOST_KEY, else generated once under MODELKIT_HOME
    is_host_key(typed)                   # the Host page's unlock
    config = admit(store, config, "ana", by="ana")   # limits (and a challenge's rules) at submit

Two roles. A *participant* is a name; they may stop, delete and re-run only their
own runs (the store refuses the rest: `Store.check_owner`). The *host* is whoever
holds the key (and the CLI, run by whoever runs the server): `by=None` in the
store and the runner. Nothing here imports Streamlit.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from modelkit import limits as memory, models, tasks
from modelkit.compare import higher_is_better
from modelkit.config import make_config
from modelkit.fields import ConfigError
from modelkit.store import Challenge, Store, default_home

log = logging.getLogger(__name__)

HOST_KEY_ENV = "MODELKIT_HOST_KEY"
HOST_KEY_FILE = "host_key"


def host_key(home: Path | None = None) -> str:
    """The room's host key: MODELKIT_HOST_KEY, else the one kept under MODELKIT_HOME (made at first use)."""
    given = os.environ.get(HOST_KEY_ENV, "").strip()
    if given:
        return given
    path = Path(home or default_home()) / HOST_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"{HOST_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)   # readable by its owner only
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_urlsafe(9) + "\n")
    try:
        os.link(draft, path)   # atomic: of two processes starting together, the first key wins
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text(encoding="utf-8").strip()


def is_host_key(typed: str | None, home: Path | None = None) -> bool:
    return bool(typed) and secrets.compare_digest(typed.strip().encode(), host_key(home).encode())


def announce_host_key(home: Path | None = None) -> str:
    """Write the key to the server log (once per server: the caller caches it) and return it."""
    key = host_key(home)
    log.warning("modelkit host key: %s  (type it under 'Host' in the sidebar to open the Host page)", key)
    return key


# --- limits: what one run and one participant may ask of a 2-core room ----------------------

@dataclass(frozen=True)
class Limits:
    seconds: float = 120.0      # per run: a longer time budget is refused, a run without one is capped here
    params: int = 2_000_000     # per model
    queued: int = 2             # runs of one participant queued or training at once

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))


LIMIT_ENV = {"seconds": "MODELKIT_LIMIT_SECONDS", "params": "MODELKIT_LIMIT_PARAMS", "queued": "MODELKIT_LIMIT_QUEUED"}


def _limit_value(name: str, text: str, where: str):
    kind = float if name == "seconds" else int
    try:
        value = kind(float(text))
    except (ValueError, OverflowError):   # not a number, or infinity
        raise ConfigError(where, "type_number", value=text[:40]) from None
    if not math.isfinite(value):
        raise ConfigError(where, "not_finite", value=text[:40])
    if value <= 0:
        raise ConfigError(where, "above", low="0", value=text[:40])
    return value


def current_limits(store: Store) -> Limits:
    """The defaults, then the environment (MODELKIT_LIMIT_*), then what the host set on the Host page."""
    values = {}
    for name in Limits.fields():
        env = os.environ.get(LIMIT_ENV[name], "").strip()
        if env:
            values[name] = _limit_value(name, env, LIMIT_ENV[name])
        stored = store.setting(f"limit.{name}")
        if stored is not None:
            values[name] = _limit_value(name, stored, f"limit.{name}")
    return Limits(**values)


def set_limits(store: Store, limits: Limits | None):
    """Keep the host's limits for every process of the room; None goes back to the environment's."""
    for name in Limits.fields():
        store.set_setting(f"limit.{name}", None if limits is None else getattr(limits, name))


def param_count(config) -> int:
    return models.count_params(models.build_on_meta(config.model, tasks.load(config.task).spec))


def within_limits(config, limits: Limits):
    """`config` with its time capped at the limit; refuses (ConfigError) a run over a per-run limit."""
    budget = config.train.time_budget
    if budget is not None and budget > limits.seconds:
        raise ConfigError("train.time_budget", "limit_seconds", limit=f"{limits.seconds:g}")
    if budget is None:   # an epochs-only run: it ends at the limit if its epochs take longer
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, time_budget=limits.seconds))
    params = param_count(config)
    if params > limits.params:
        raise ConfigError("model", "limit_params", params=f"{params:,}", limit=f"{limits.params:,}")
    memory.check_memory(config)   # the memory a run needs, from its shapes, against a worker's share
    return config


def warm_up():
    """Measure one small model once, so that the first participant's submit does not pay for the imports."""
    try:
        within_limits(make_config("moons", "mlp"), Limits())
    except Exception:   # only a warm-up: a real submit reports its own refusal
        log.exception("room warm-up failed")


def admit(store: Store, config, owner: str, by: str | None = None, challenge: str | None = None):
    """The config a run may start with, or a ConfigError naming the limit (or challenge rule) it breaks.

    Every run meets the per-run limits (seconds, parameters, memory) and its challenge's rules;
    a participant (`by`) also the number of runs they may have queued or training at once."""
    limits = current_limits(store)
    if challenge is not None:
        config = within_challenge(find_challenge(store, challenge), config)
    config = within_limits(config, limits)
    if by is not None and store.count_active(owner) >= limits.queued:
        raise ConfigError("", "limit_queued", limit=limits.queued)
    return config


# --- the queue ----------------------------------------------------------------------------

def estimate_wait(store: Store, position: int, workers: int) -> float:
    """Seconds until the run at `position` in the queue starts, roughly: whole rounds of typical runs."""
    typical = store.typical_run_seconds() or current_limits(store).seconds
    return math.ceil(position / max(1, workers)) * typical


# --- challenges -----------------------------------------------------------------------------

FIXED = ("task.name", "model.arch")    # a challenge names these itself; they are not "locked settings"


def _value_at(config_dict: dict, path: str):
    section, name = path.split(".", 1)
    return config_dict[section][name]


def parse_locked(text: str) -> list[str]:
    """The host's locked settings, one `key.path=value` a line (blank lines and # comments skipped)."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def create_challenge(store: Store, *, task: str, archs: list[str], budget: float, locked: list[str],
                     deadline: float | None = None, instruction: str = "", title: str = "") -> str:
    """Check a challenge and keep it; its id goes in the link (?challenge=ID). ConfigError if it cannot be met."""
    if not archs:
        raise ConfigError("model.arch", "challenge_no_arch")
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
    return store.create_challenge(task=task, archs=list(archs), budget=float(budget), locked=values,
                                  deadline=deadline, instruction=instruction, title=title)


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


# --- the class leaderboard ----------------------------------------------------------------

BOARD_METRIC = {"classification": "test_accuracy", "regression": "test_r2", "lm": "test_perplexity"}
BOARD_COLUMNS = ["rank", "participant", "score", "arch", "params", "seconds", "run_id"]


def board_metric(task: str) -> str:
    return BOARD_METRIC[tasks.task_info(task).kind]


def leaderboard(runs, task: str) -> pd.DataFrame:
    """Each participant's best finished run on `task` (pass a challenge's runs for its board), best first:
    rank, participant, score (the task's test metric), arch, params, seconds, run_id."""
    metric = board_metric(task)
    higher = higher_is_better(metric)
    best: dict[str, object] = {}
    for run in runs:
        score = run.metrics.get(metric)
        if run.task != task or run.status not in ("completed", "stopped") or score is None:
            continue
        held = best.get(run.owner)
        if held is None or (score > held.metrics[metric] if higher else score < held.metrics[metric]):
            best[run.owner] = run
    rows = [{"participant": r.owner, "score": float(r.metrics[metric]), "arch": r.arch, "params": r.params,
             "seconds": _seconds(r), "run_id": r.id} for r in best.values()]
    table = pd.DataFrame(rows, columns=BOARD_COLUMNS[1:])
    table = table.sort_values(["score", "seconds"], ascending=[not higher, True], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    table["params"] = table["params"].astype("Int64")
    return table


def _seconds(run) -> float | None:
    if "seconds" in run.metrics:
        return float(run.metrics["seconds"])
    return (run.finished - run.started).total_seconds() if run.started and run.finished else None


# --- the Host page's view of the room ---------------------------------------------------

def people(runs, here: list[str]) -> pd.DataFrame:
    """One row per participant seen now or with runs: participant, here, running (run ids), queued, finished."""
    rows: dict[str, dict] = {name: {"participant": name, "here": True, "running": [], "queued": 0, "finished": 0}
                             for name in here}
    for run in runs:
        row = rows.setdefault(run.owner, {"participant": run.owner, "here": False, "running": [], "queued": 0,
                                          "finished": 0})
        if run.status == "running":
            row["running"].append(f"{run.task} · {run.arch}")
        elif run.status == "queued":
            row["queued"] += 1
        else:
            row["finished"] += 1
    table = pd.DataFrame(list(rows.values()), columns=["participant", "here", "running", "queued", "finished"])
    table["running"] = table["running"].map(", ".join)
    return table.sort_values(["here", "participant"], ascending=[False, True], kind="stable").reset_index(drop=True)
