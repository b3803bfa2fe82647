"""What the store hands out: a run's record, a challenge, the statuses a run passes through."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

STATUSES = ("queued", "running", "completed", "stopped", "diverged", "failed", "interrupted")
ACTIVE = ("queued", "running")
HOST = "host"   # who a stop asked by the host (the Host page, the CLI) is stored as: no seat may take this name


class StoreError(RuntimeError):
    """A store operation refused in plain words (e.g. deleting a run that is training)."""


@dataclass
class Run:
    id: str
    name: str
    owner: str
    task: str
    arch: str
    config: dict
    status: str
    message: str
    created: datetime
    started: datetime | None
    finished: datetime | None
    device: str | None
    params: int | None
    metrics: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)    # empty in list_runs(); get_run() fills it
    queue_position: int | None = None              # 1 = next to start; None unless queued
    stop_requested: bool = False
    stopped_by: str | None = None                  # who asked it to stop: its owner's name, or HOST
    worker_pid: int | None = None
    challenge: str | None = None
    node: str | None = None                        # the cluster node that trained it; None when local

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def to_dict(self) -> dict:
        """JSON-ready: times as ISO 8601 UTC strings."""
        out = dataclasses.asdict(self)
        for key in ("created", "started", "finished"):
            out[key] = out[key].isoformat(timespec="seconds") if out[key] else None
        return out


@dataclass
class Challenge:
    """A task the host hands out: allowed architectures, a time budget, settings locked to values."""
    id: str
    title: str
    task: str
    archs: list[str]
    budget: float
    locked: dict                      # {"train.lr": 0.01, "model.hidden": [32, 32]}
    deadline: datetime | None
    instruction: str
    created: datetime
    hidden: str | None = None         # its hidden test (modelkit.room.hidden): "held_back", "upload"; None: none
    hidden_file: str | None = None    # "upload": the host's file (modelkit.data.hidden_file's id)

    def open_at(self, when: datetime | None = None) -> bool:
        return self.deadline is None or (when or datetime.now(timezone.utc)) < self.deadline


def moment(seconds: float | None) -> datetime | None:
    """A stored unix time as an aware datetime (None stays None)."""
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


def from_json(text: str | None) -> dict:
    """A stored JSON column as a dict ({} for none)."""
    return json.loads(text) if text else {}


def to_json(value) -> str | None:
    """A value for a JSON column (None stays None)."""
    return None if value is None else json.dumps(value, ensure_ascii=False, allow_nan=True)
