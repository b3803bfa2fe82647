"""Lessons the host made (their steps as JSON; the rules are modelkit.room.lessons') and the room's gallery."""
from __future__ import annotations

import json
import time

import sqlalchemy as sa

from modelkit.store.schema import gallery_table, lessons_table


class LessonRecords:
    """The part of `Store` that keeps lessons and the gallery (needs `self.engine`)."""

    def save_lesson(self, name: str, title: str, steps: list[dict]):
        """Keep (or replace) the lesson `name`."""
        with self.engine.begin() as c:
            c.execute(lessons_table.delete().where(lessons_table.c.name == name))
            c.execute(lessons_table.insert().values(name=name, title=title, created=time.time(),
                                                    steps=json.dumps(steps, ensure_ascii=False)))

    def stored_lesson(self, name: str) -> tuple[str, list[dict]] | None:
        """(title, steps) of a saved lesson, or None."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(lessons_table).where(lessons_table.c.name == name)).mappings().first()
        return None if row is None else (row["title"], json.loads(row["steps"]))

    def stored_lessons(self) -> list[str]:
        """The saved lessons' names, oldest first."""
        with self.engine.connect() as c:
            return list(c.execute(sa.select(lessons_table.c.name).order_by(lessons_table.c.created)).scalars())

    # --- the gallery --------------------------------------------------------------------

    def share(self, run_id: str, owner: str, name: str, line: str):
        with self.engine.begin() as c:
            c.execute(gallery_table.delete().where(gallery_table.c.run_id == run_id))
            c.execute(gallery_table.insert().values(run_id=run_id, owner=owner, name=name, line=line,
                                                    shared=time.time(), revealed=False))

    def withdraw(self, run_id: str) -> bool:
        with self.engine.begin() as c:
            return bool(c.execute(gallery_table.delete().where(gallery_table.c.run_id == run_id)).rowcount)

    def reveal(self, run_id: str, revealed: bool = True) -> bool:
        with self.engine.begin() as c:
            return bool(c.execute(gallery_table.update().where(gallery_table.c.run_id == run_id)
                                  .values(revealed=bool(revealed))).rowcount)

    def gallery(self) -> list[dict]:
        """The shared models, newest first: run_id, owner, name, line, shared (unix seconds), revealed."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(gallery_table).order_by(gallery_table.c.shared.desc())).mappings().all()
        return [dict(r) for r in rows]
