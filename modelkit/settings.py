"""Every environment variable modelkit reads, read here and nowhere else, each by one rule.

    home()            MODELKIT_HOME: this machine's folder: the SQLite store and the cache of its blobs
                      (default ./.modelkit)
    database_url()    MODELKIT_DB_URL: a server database, else SQLite under the home
    workers()         MODELKIT_WORKERS: training processes (default: two per core)
    run_memory_mb()   MODELKIT_RUN_MEMORY_MB: the memory one run may use (default: a share of the machine)
    limit(name)       MODELKIT_LIMIT_SECONDS / _PARAMS / _QUEUED: the room's limits
    upload_limit()    MODELKIT_UPLOAD_<NAME>: the upload limits
    executor()        MODELKIT_EXECUTOR: local worker processes or a Ray cluster
    host_key()        MODELKIT_HOST_KEY: the key that opens the Host page
    public_url()      MODELKIT_PUBLIC_URL: the join link participants open
    ray_address()     RAY_ADDRESS: the Ray cluster to join

A number is a positive, finite value (a whole one for counts); anything else is refused with a
ConfigError whose path is the variable's name and whose code has words in both languages. Values are
read at each call, so a test (or a host) that changes the environment is seen at once.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from modelkit.fields import ConfigError

DEFAULT_HOME = ".modelkit"
HOST_KEY_ENV = "MODELKIT_HOST_KEY"
EXECUTORS = ("local", "ray")
LIMIT_ENV = {"seconds": "MODELKIT_LIMIT_SECONDS", "params": "MODELKIT_LIMIT_PARAMS", "queued": "MODELKIT_LIMIT_QUEUED"}


def text(name: str) -> str:
    """The variable's value, stripped; "" when it is not set."""
    return os.environ.get(name, "").strip()


def number(text_value: str, where: str, whole: bool = True):
    """The one parsing rule: a positive finite number (a whole one when `whole`), or a coded refusal."""
    try:
        value = float(text_value)
    except (ValueError, OverflowError):
        raise ConfigError(where, "type_number", value=text_value[:40]) from None
    if not math.isfinite(value):
        raise ConfigError(where, "not_finite", value=text_value[:40])
    value = int(value) if whole else value
    if value <= 0:
        raise ConfigError(where, "above", low="0", value=text_value[:40])
    return value


def _number_env(name: str, whole: bool = True):
    given = text(name)
    return number(given, name, whole) if given else None


def home() -> Path:
    return Path(text("MODELKIT_HOME") or DEFAULT_HOME).resolve()


def database_url(home_folder: Path | None = None) -> str:
    return text("MODELKIT_DB_URL") or f"sqlite:///{(home_folder or home()) / 'modelkit.db'}"


def cpu_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def workers_asked() -> int | None:
    """MODELKIT_WORKERS, or None where the executor chooses (Ray: the cluster's CPUs)."""
    return _number_env("MODELKIT_WORKERS")


def workers() -> int:
    """MODELKIT_WORKERS, else two single-thread workers per core: with 20 participants pressing Train
    together on 2 cores, four workers showed each their first point in 1.9 s (median; 6.3 s at most)
    against 6.1 s (13.6 s) for two, and the room finished sooner (README, Hosting a room)."""
    return workers_asked() or 2 * cpu_cores()


def run_memory_mb() -> float | None:
    return _number_env("MODELKIT_RUN_MEMORY_MB", whole=False)


def limit(name: str) -> int | float | None:
    """A room limit from the environment (seconds, params or queued), or None."""
    return _number_env(LIMIT_ENV[name], whole=name != "seconds")


def upload_limit(name: str, default: int) -> int:
    """MODELKIT_UPLOAD_<NAME>, else `default`."""
    return _number_env(f"MODELKIT_UPLOAD_{name}") or default


def executor() -> str:
    kind = text("MODELKIT_EXECUTOR") or "local"
    if kind not in EXECUTORS:
        raise ConfigError("MODELKIT_EXECUTOR", "choice", choices=", ".join(EXECUTORS), value=repr(kind)[:40])
    return kind


def host_key() -> str:
    return text(HOST_KEY_ENV)


def public_url() -> str:
    """MODELKIT_PUBLIC_URL: the address participants open, when the host knows better than this machine."""
    return text("MODELKIT_PUBLIC_URL")


def ray_address() -> str | None:
    return text("RAY_ADDRESS") or None
