"""The room's records in the store: the host's settings (kept beside the schema version), challenges and
their runs' hidden-test scores."""
from __future__ import annotations

import json
import secrets
import time

import sqlalchemy as sa

from modelkit.store.records import Challenge, moment
from modelkit.store.schema import challenges_table, hidden_scores_table, meta_table


class ChallengeRecords:
    """The part of `Store` that keeps room settings and challenges (needs `self.engine`)."""

    def setting(self, key: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(sa.select(meta_table.c.value).where(meta_table.c.key == f"setting.{key}")).scalar()

    def set_setting(self, key: str, value: str | None):
        """Keep (or with None forget) a room setting, for every process that shares the store."""
        name = f"setting.{key}"
        with self.engine.begin() as c:
            c.execute(meta_table.delete().where(meta_table.c.key == name))
            if value is not None:
                c.execute(meta_table.insert().values(key=name, value=str(value)))

    # --- challenges -----------------------------------------------------------------

    def create_challenge(self, *, task: str, archs: list[str], budget: float, locked: dict,
                         deadline: float | None = None, instruction: str = "", title: str = "",
                         hidden: str | None = None, hidden_file: str | None = None) -> str:
        challenge_id = secrets.token_hex(4)
        with self.engine.begin() as c:
            c.execute(challenges_table.insert().values(
                id=challenge_id, title=title, task=task, archs=json.dumps(archs), budget=budget,
                locked=json.dumps(locked, ensure_ascii=False), deadline=deadline, instruction=instruction,
                created=time.time(), hidden=hidden, hidden_file=hidden_file))
        return challenge_id

    def get_challenge(self, challenge_id: str) -> Challenge | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(challenges_table).where(challenges_table.c.id == challenge_id)).mappings().first()
        return None if row is None else self._challenge(row)

    def list_challenges(self) -> list[Challenge]:
        """Newest first."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(challenges_table).order_by(challenges_table.c.created.desc())).mappings().all()
        return [self._challenge(r) for r in rows]

    @staticmethod
    def _challenge(row) -> Challenge:
        return Challenge(id=row["id"], title=row["title"], task=row["task"], archs=json.loads(row["archs"]),
                         budget=row["budget"], locked=json.loads(row["locked"]), deadline=moment(row["deadline"]),
                         instruction=row["instruction"], created=moment(row["created"]), hidden=row["hidden"],
                         hidden_file=row["hidden_file"])

    # --- hidden-test scores ------------------------------------------------------------

    def hidden_scores(self, challenge_id: str) -> dict[str, float | None]:
        """run id -> its score on the challenge's hidden test, for the runs scored so far."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(hidden_scores_table.c.run_id, hidden_scores_table.c.score)
                             .where(hidden_scores_table.c.challenge == challenge_id)).all()
        return dict(rows)

    def keep_hidden_score(self, run_id: str, challenge_id: str, score: float | None):
        with self.engine.begin() as c:
            c.execute(hidden_scores_table.delete().where(hidden_scores_table.c.run_id == run_id))
            c.execute(hidden_scores_table.insert().values(run_id=run_id, challenge=challenge_id, score=score))
