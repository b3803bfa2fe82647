"""What went wrong with a run, from its curves: diverged, overfitting, stalled.

Pure functions over the store's point frame (columns step, name, value); the
pages turn each finding's code into advice in the reader's language.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DIVERGED, OVERFITTING, STALLED = "diverged", "overfitting", "stalled"


def _values(points: pd.DataFrame, name: str) -> np.ndarray:
    if points is None or points.empty:
        return np.array([])
    rows = points[points["name"] == name].sort_values("step")
    return rows["value"].to_numpy(dtype=float)


def is_diverged(loss: np.ndarray) -> bool:
    """The loss became infinite / NaN, or ended far above where it started."""
    if len(loss) == 0:
        return False
    if not np.all(np.isfinite(loss)):
        return True
    if len(loss) < 10:
        return False
    k = max(3, len(loss) // 10)
    start, end = np.median(loss[:k]), np.median(loss[-k:])
    return end > 3 * start + 1e-9


def is_overfitting(val_loss: np.ndarray, train_loss: np.ndarray, *, rise: float = 0.10,
                   share: float = 0.05) -> bool:
    """Validation loss climbed well above its best while the training loss kept falling.

    Well above: by `rise` of the best value, and by `share` of all the ground it had gained, so that
    a loss wobbling near zero (0.029 -> 0.038 after falling from 2.0) is not called overfitting.
    """
    if len(val_loss) < 4 or not np.all(np.isfinite(val_loss)):
        return False
    best_at = int(np.argmin(val_loss))
    if best_at > len(val_loss) - 3:  # best is recent: still improving
        return False
    best, last = val_loss[best_at], val_loss[-1]
    if last < best * (1 + rise) + 1e-9 or last - best < share * (val_loss[0] - best):
        return False
    if len(train_loss) < 4:
        return True
    # training loss at the end is lower than around the time validation was best
    cut = int(len(train_loss) * (best_at + 1) / len(val_loss))
    cut = min(max(cut, 1), len(train_loss) - 1)
    return float(np.median(train_loss[-max(2, len(train_loss) // 10):])) < float(np.median(train_loss[max(0, cut - 5):cut + 1]))


def is_stalled(loss: np.ndarray, *, min_steps: int = 20, min_drop: float = 0.05) -> bool:
    """The training loss hardly moved: less than `min_drop` (relative) from start to end."""
    if len(loss) < min_steps or not np.all(np.isfinite(loss)):
        return False
    k = max(3, len(loss) // 10)
    start, end = float(np.median(loss[:k])), float(np.median(loss[-k:]))
    if start <= 1e-6:  # already near zero: nothing left to learn, not stalled
        return False
    return (start - end) / start < min_drop


def diagnose(points: pd.DataFrame, status: str | None = None) -> list[str]:
    """The findings that apply to a run, most serious first (empty when all looks healthy)."""
    loss, val = _values(points, "loss"), _values(points, "val_loss")
    if status == DIVERGED or is_diverged(loss):
        return [DIVERGED]
    found = []
    if is_overfitting(val, loss):
        found.append(OVERFITTING)
    if is_stalled(loss):
        found.append(STALLED)
    return found

