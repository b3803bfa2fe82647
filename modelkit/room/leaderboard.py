"""The room's leaderboards and who is here, as pandas tables."""
from __future__ import annotations

import pandas as pd

from modelkit.compare.race import higher_is_better
from modelkit.data import tasks

BOARD_COLUMNS = ["rank", "participant", "score", "arch", "params", "seconds", "run_id"]


def board_metric(task: str) -> str:
    return tasks.task_info(task).metric


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
