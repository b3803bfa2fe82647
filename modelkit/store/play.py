"""Changing a run while it trains (a new learning rate, a pause) and the boundaries kept to replay it."""
from __future__ import annotations

import json
import time

import sqlalchemy as sa

from modelkit.store.records import ACTIVE, to_json
from modelkit.store.schema import controls_table, runs_table, snapshots_table


class PlayRecords:
    """The part of `Store` that keeps a run's controls and snapshots (needs `self.engine`)."""

    def set_lr(self, run_id: str, lr: float) -> bool:
        """A new base learning rate for an active run (the worker applies it from its next step)."""
        return self._set_control(run_id, lr=float(lr))

    def set_paused(self, run_id: str, paused: bool) -> bool:
        """Pause (or resume) an active run between two steps. False if the run is not active."""
        return self._set_control(run_id, paused=bool(paused))

    def _set_control(self, run_id: str, **values) -> bool:
        with self.engine.begin() as c:
            if c.execute(sa.select(runs_table.c.status).where(runs_table.c.id == run_id)).scalar() not in ACTIVE:
                return False
            values["changed"] = time.time()
            if c.execute(controls_table.update().where(controls_table.c.run_id == run_id).values(**values)).rowcount:
                return True
            try:
                c.execute(controls_table.insert().values(run_id=run_id, **{"paused": False, **values}))
            except sa.exc.IntegrityError:   # another process inserted it first: update theirs
                c.execute(controls_table.update().where(controls_table.c.run_id == run_id).values(**values))
        return True

    def controls(self, run_id: str) -> dict:
        """{"lr": base rate or None, "paused": bool, "stop": bool}: the watcher's one read, a few times a second."""
        query = (sa.select(runs_table.c.stop_requested, controls_table.c.lr, controls_table.c.paused)
                 .select_from(runs_table.outerjoin(controls_table, controls_table.c.run_id == runs_table.c.id))
                 .where(runs_table.c.id == run_id))
        with self.engine.connect() as c:
            row = c.execute(query).first()
        if row is None:
            return {"lr": None, "paused": False, "stop": False}
        return {"lr": row[1], "paused": bool(row[2]), "stop": row[0] is not None}

    def add_snapshot(self, run_id: str, step: int, boundary: dict, cap: int) -> int:
        """Keep a decision boundary taken at `step`; past `cap` every other older one goes, so those kept
        stay spread over the whole run (the first and the newest always stay). Returns how many are kept."""
        with self.engine.begin() as c:
            c.execute(snapshots_table.insert().values(run_id=run_id, step=step, boundary=to_json(boundary)))
            ids = c.execute(sa.select(snapshots_table.c.id).where(snapshots_table.c.run_id == run_id)
                            .order_by(snapshots_table.c.step, snapshots_table.c.id)).scalars().all()
            if len(ids) <= cap:
                return len(ids)
            drop = ids[1:-1:2]
            c.execute(snapshots_table.delete().where(snapshots_table.c.id.in_(drop)))
            return len(ids) - len(drop)

    def snapshots(self, run_id: str) -> list[tuple[int, dict]]:
        """The kept decision boundaries of a run, (step, boundary), oldest first."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(snapshots_table.c.step, snapshots_table.c.boundary)
                             .where(snapshots_table.c.run_id == run_id)
                             .order_by(snapshots_table.c.step, snapshots_table.c.id)).all()
        return [(step, json.loads(text)) for step, text in rows]


def delete_play(c, run_id: str):
    c.execute(controls_table.delete().where(controls_table.c.run_id == run_id))
    c.execute(snapshots_table.delete().where(snapshots_table.c.run_id == run_id))
