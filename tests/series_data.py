"""Series the tests make: a noisy seasonal signal with a trend, and two signals where one leads."""
from __future__ import annotations

import numpy as np
import pandas as pd


def seasonal_frame(n: int, period: int = 24, seed: int = 0) -> pd.DataFrame:
    """Hourly load: a trend, a daily season and noise, with a date column."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    load = 10 + 0.02 * t + 3 * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.3, n)
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="h").astype(str), "load": load})


def leading_pair(n: int, lead: int, seed: int = 0) -> pd.DataFrame:
    """A random walk (the leader) and the same walk `lead` steps later with a little noise (the follower)."""
    rng = np.random.default_rng(seed)
    leader = np.cumsum(rng.normal(0, 1, n + lead))
    follower = leader[:n] + rng.normal(0, 0.1, n)
    return pd.DataFrame({"step": np.arange(n), "leader": leader[lead:], "follower": follower})


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")
