"""The loss curve as sound, for participants who do not watch the screen: pitch follows the loss (a falling
tone is a model learning), and a short tick marks each check on the validation data.

Made here, offline, as a WAV: numbers in, bytes out, like the figure builders beside it.
"""
from __future__ import annotations

import io
import wave

import numpy as np
import pandas as pd

from modelkit.plots.figures import ema

RATE = 22_050            # samples per second: plenty for tones under 1 kHz
LOW_HZ, HIGH_HZ = 220.0, 880.0   # the lowest loss sounds at A3, the highest two octaves up
TICK_HZ, TICK_S = 2_000.0, 0.012


def loss_pitches(values, low: float = LOW_HZ, high: float = HIGH_HZ) -> np.ndarray:
    """One frequency per value: the highest loss at `high`, the lowest at `low`, evenly in octaves
    (on the loss's log scale when every value is positive, as a log-scaled chart would show it)."""
    v = np.asarray(values, dtype=float)
    v = np.log(v) if len(v) and np.all(v > 0) else v
    spread = float(np.ptp(v)) if len(v) else 0.0
    where = (v - v.min()) / spread if spread > 0 else np.full(len(v), 0.5)
    return low * (high / low) ** where


def tone(pitches, seconds: float, rate: int = RATE) -> np.ndarray:
    """A sine that glides through `pitches` over `seconds`, phase-continuous (no clicks between values)."""
    n = max(1, int(seconds * rate))
    along = np.interp(np.linspace(0, len(pitches) - 1, n), np.arange(len(pitches)), pitches)
    phase = 2 * np.pi * np.cumsum(along) / rate
    fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.02 * rate))   # soft ends
    return 0.5 * np.sin(phase) * fade


def add_ticks(samples: np.ndarray, at_fractions, rate: int = RATE) -> np.ndarray:
    """A short high blip at each fraction (0..1) of the sound's length."""
    out = samples.copy()
    k = int(TICK_S * rate)
    blip = 0.4 * np.sin(2 * np.pi * TICK_HZ * np.arange(k) / rate) * np.hanning(k)
    for f in at_fractions:
        i = min(len(out) - k, max(0, int(f * len(out))))
        out[i:i + k] += blip
    return np.clip(out, -1, 1)


def wav_bytes(samples: np.ndarray, rate: int = RATE) -> bytes:
    """16-bit mono WAV."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.asarray(samples) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def loss_sound(points: pd.DataFrame, seconds: float = 4.0, smoothing: float = 0.6) -> bytes:
    """The training loss of a store point frame as a WAV of `seconds`, with a tick at each validation check."""
    train = points[points["name"] == "loss"].sort_values("step")
    if train.empty:
        return wav_bytes(np.zeros(int(0.1 * RATE)))
    steps = train["step"].to_numpy(float)
    samples = tone(loss_pitches(ema(train["value"], smoothing)), seconds)
    checks = points.loc[points["name"] == "val_loss", "step"].to_numpy(float)
    span = (steps[-1] - steps[0]) or 1.0
    return wav_bytes(add_ticks(samples, (checks - steps[0]) / span))
