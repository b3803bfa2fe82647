"""Hear the curve: the WAV's pitch, measured back from its samples, falls where the loss falls and rises
where it rises; each validation check is a tick at its place in time."""
import io
import wave

import numpy as np
import pandas as pd

from modelkit.plots import sound

WINDOW_S = 0.05


def frame(losses, checks=()):
    rows = [{"step": i + 1, "name": "loss", "value": v} for i, v in enumerate(losses)]
    rows += [{"step": s, "name": "val_loss", "value": 1.0} for s in checks]
    return pd.DataFrame(rows, columns=["step", "name", "value"])


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32767
    return samples, rate


def measured_pitch(samples: np.ndarray, rate: int) -> np.ndarray:
    """Hz per window, from the strongest frequency of its spectrum."""
    n = int(WINDOW_S * rate)
    windows = samples[: len(samples) // n * n].reshape(-1, n) * np.hanning(n)
    spectrum = np.abs(np.fft.rfft(windows, n=8 * n, axis=1))
    return np.fft.rfftfreq(8 * n, 1 / rate)[spectrum.argmax(axis=1)]


def down_then_up(n=300, turn=200):
    falling = np.geomspace(2.0, 0.1, turn)
    return np.r_[falling, np.geomspace(0.1, 0.8, n - turn)]


def test_the_pitch_falls_where_the_loss_falls_and_rises_where_it_rises():
    losses = down_then_up()
    samples, rate = read_wav(sound.loss_sound(frame(losses), seconds=3.0, smoothing=0.0))
    pitch = measured_pitch(samples, rate)[2:-2]   # the soft ends aside
    turn = int(len(pitch) * 200 / 300)
    fall, rise = np.diff(pitch[:turn - 2]), np.diff(pitch[turn + 2:])
    assert np.mean(fall < 0) > 0.8 and np.mean(rise > 0) > 0.8
    assert pitch[:5].mean() > pitch[turn - 3:turn + 3].mean() < pitch[-5:].mean()


def test_each_validation_check_is_a_tick_at_its_place():
    checks = (60, 150, 240)
    samples, rate = read_wav(sound.loss_sound(frame(np.geomspace(2, 0.1, 300), checks), seconds=3.0))
    n = int(0.01 * rate)
    windows = samples[: len(samples) // n * n].reshape(-1, n) * np.hanning(n)
    freqs = np.fft.rfftfreq(n, 1 / rate)
    band = np.abs(np.fft.rfft(windows, axis=1))[:, (freqs > 1800) & (freqs < 2200)].sum(axis=1)
    loud = np.flatnonzero(band > band.max() / 3)
    bursts = np.split(loud, np.flatnonzero(np.diff(loud) > 2) + 1)
    heard_at = [b.mean() / len(windows) for b in bursts]
    expected = [(c - 1) / 299 for c in checks]
    assert len(bursts) == len(checks) and np.allclose(heard_at, expected, atol=0.03)


def test_a_run_without_points_is_a_short_silence():
    samples, _ = read_wav(sound.loss_sound(frame([])))
    assert len(samples) > 0 and np.all(samples == 0)
