"""A stored series as a forecasting task: windows split by time, the naive baselines, the results.

    arrays = windows(ds, window=48, horizon=12, val_fraction=0.15, test_fraction=0.2)
    x = to_model(raw_windows, arrays["scale"])            # own units -> what the model reads
    values = from_model(outputs, last_values, arrays["scale"])   # what it answers -> own units

The split is by time: the last part is the test set, the part before it validation, never
shuffled in; a window's inputs may reach back into the part before, its targets never leave
their own. Every column is scaled by the mean and spread of the training part alone, and each
window is taken relative to its last value, so nothing of the future leaks into training and a
trend that leaves the training range does not throw the model.
"""
from __future__ import annotations

import math

import numpy as np

from modelkit.data import uploads
from modelkit.fields import ConfigError

MIN_TRAIN_WINDOWS = 16    # fewer training windows than this teach a model nothing
MIN_ACF = 0.3             # a season must repeat at least this strongly to count as a period
MAX_WINDOW_VALUES = 20_000_000   # values in all windows together (80 MB): a long series takes every k-th window


def needed_steps(window: int, horizon: int, val_fraction: float, test_fraction: float) -> int:
    """Steps a series needs so that training has MIN_TRAIN_WINDOWS windows and validation and test one each."""
    train = math.ceil((window + horizon + MIN_TRAIN_WINDOWS) / (1 - val_fraction - test_fraction))
    return max(train, math.ceil((horizon + 1) / min(val_fraction, test_fraction)))


def check(ds: uploads.Dataset, window: int, horizon: int, val_fraction: float, test_fraction: float):
    """Refuse a window and horizon the series is too short for, under the window's field."""
    need = needed_steps(window, horizon, val_fraction, test_fraction)
    if ds.rows < need:
        raise ConfigError("task.seq_len", "data_series_short", file=ds.name[:80], n=f"{need:,}",
                          rows=f"{ds.rows:,}", window=window, horizon=horizon)


def cuts(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Where validation and test begin: the last steps of the series."""
    n_test, n_val = max(1, round(n * test_fraction)), max(1, round(n * val_fraction))
    return n - n_test - n_val, n - n_test


def origins(start: int, stop: int, window: int, horizon: int) -> np.ndarray:
    """The last input step of every window whose forecast lies wholly in steps [start, stop)."""
    return np.arange(max(start - 1, window - 1), stop - horizon)


def cut_windows(scaled: np.ndarray, at: np.ndarray, window: int, horizon: int, inputs, targets):
    """x (N, window, inputs) and y (N, horizon * targets), step by step then target by target, each
    relative to the window's last value: the model reads the shape of the recent past and forecasts
    the change from now, so a trend that leaves the training part's range does not throw it."""
    past = at[:, None] - window + 1 + np.arange(window)
    future = at[:, None] + 1 + np.arange(horizon)
    x = scaled[past][:, :, inputs] - scaled[at][:, None, inputs]
    y = (scaled[future][:, :, targets] - scaled[at][:, None, targets]).reshape(len(at), -1)
    return (x[:, :, 0] if len(inputs) == 1 else x), y


def to_model(window_values: np.ndarray, scale: dict) -> np.ndarray:
    """Windows in the series' own units (N, window, inputs) as the model reads them: scaled, relative."""
    columns = scale["inputs"]
    mean, std = np.asarray(scale["mean"])[columns], np.asarray(scale["std"])[columns]
    x = (np.asarray(window_values, dtype=np.float64) - mean) / std
    x = x - x[:, -1:, :]
    return (x[:, :, 0] if len(columns) == 1 else x).astype(np.float32)


def from_model(out: np.ndarray, last: np.ndarray, scale: dict) -> np.ndarray:
    """Model outputs (N, horizon * targets) as forecasts in own units (N, horizon, targets), given each
    window's last values of the targets in own units (N, targets)."""
    columns = scale["targets"]
    std = np.asarray(scale["std"])[columns]   # the mean cancels: the forecast is a change from the last value
    out = np.asarray(out, dtype=np.float64).reshape(len(out), -1, len(columns))
    return out * std + np.asarray(last, dtype=np.float64)[:, None, :]


def period(signal: np.ndarray, max_lag: int | None = None) -> int | None:
    """The season's length in steps: after the autocorrelation of the detrended signal first swings
    below zero, its first peak nearly as high as the highest (multiples of a season repeat too), when
    it repeats at least MIN_ACF strongly; None when no season shows."""
    n = len(signal)
    if n < 8:
        return None
    t = np.arange(n)
    detrended = signal - np.polyval(np.polyfit(t, signal, 1), t)
    detrended = detrended - detrended.mean()
    spectrum = np.fft.rfft(detrended, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    if acf[0] <= 0:
        return None
    acf = acf / acf[0]
    max_lag = min(max_lag or n // 3, n // 3)
    below = np.nonzero(acf[1:max_lag + 1] < 0)[0]
    if len(below) == 0:
        return None
    lags = np.arange(below[0] + 2, max_lag)
    peaks = lags[(acf[lags] >= acf[lags - 1]) & (acf[lags] >= acf[lags + 1]) & (acf[lags] >= MIN_ACF)]
    if len(peaks) == 0:
        return None
    return int(peaks[np.argmax(acf[peaks] >= 0.9 * acf[peaks].max())])


def baselines(scaled: np.ndarray, at: np.ndarray, horizon: int, targets, y: np.ndarray, season: int | None) -> dict:
    """Test MSE / MAE of the naive forecast (every step ahead = the last value seen: 0 relative to it)
    and, with a season, the seasonal naive one (each step = the same step one season before), both on
    the scale of test_mse (y relative to each window's last value, as cut_windows cuts it)."""
    naive = np.zeros_like(y)
    out = {"baseline_mse": float(np.mean((naive - y) ** 2)), "baseline_mae": float(np.mean(np.abs(naive - y)))}
    if season:
        ahead = np.arange(1, horizon + 1)
        back = at[:, None] + ahead - season * np.ceil(ahead / season).astype(np.int64)
        seasonal = (scaled[back][:, :, targets] - scaled[at][:, None, targets]).reshape(len(at), -1)
        out["seasonal_mse"] = float(np.mean((seasonal - y) ** 2))
        out["seasonal_period"] = float(season)
    return out


def windows(ds: uploads.Dataset, window: int, horizon: int, val_fraction: float, test_fraction: float) -> dict:
    """The task's arrays: x/y of train, val, test; the scaling; the test windows' origins; the baselines."""
    check(ds, window, horizon, val_fraction, test_fraction)
    values = uploads.arrays(ds)["values"].astype(np.float64)     # (T, C) in the series' own units
    names = list(ds.features)
    inputs = [names.index(c) for c in ds.series["inputs"]]
    targets = [names.index(c) for c in ds.series["targets"]]
    cut_val, cut_test = cuts(len(values), val_fraction, test_fraction)
    mean, std = values[:cut_val].mean(0), values[:cut_val].std(0)   # the training part alone
    std = np.where(std > 1e-9, std, 1.0)
    scaled = (values - mean) / std
    parts = {"train": (0, cut_val), "val": (cut_val, cut_test), "test": (cut_test, len(values))}
    stride = max(1, math.ceil(len(values) * window * len(inputs) / MAX_WINDOW_VALUES))
    out = {}
    for part, (start, stop) in parts.items():
        at = origins(start, stop, window, horizon)[::stride]
        out[f"x_{part}"], out[f"y_{part}"] = cut_windows(scaled, at, window, horizon, inputs, targets)
        out[f"at_{part}"] = at
    season = period(scaled[:cut_val, targets[0]], max_lag=cut_val // 3)
    out["baselines"] = baselines(scaled, out["at_test"], horizon, targets, out["y_test"], season)
    out["scale"] = {"mean": mean.tolist(), "std": std.tolist(), "inputs": inputs, "targets": targets,
                    "names": names}
    out["cuts"] = (cut_val, cut_test)
    out["values"] = values                                       # (T, C), own units: the charts, Try it
    out["last_test"] = values[out["at_test"]][:, targets]      # each test window's last values, own units
    return {k: (v.astype(np.float32) if isinstance(v, np.ndarray) and k[0] in "xy" else v) for k, v in out.items()}


def test_window(arrays: dict, i: int) -> tuple[np.ndarray, np.ndarray]:
    """The i-th test window in own units (window, inputs) and the true values after it (horizon, targets)."""
    scale, at = arrays["scale"], int(arrays["at_test"][i])
    window = arrays["x_test"].shape[1]
    horizon = arrays["y_test"].shape[1] // len(scale["targets"])
    values = arrays["values"]
    return values[at - window + 1:at + 1][:, scale["inputs"]], values[at + 1:at + 1 + horizon][:, scale["targets"]]


def columns(arrays: dict) -> dict[str, np.ndarray]:
    """Each stored column of the series in its own units, by name."""
    return {name: arrays["values"][:, i] for i, name in enumerate(arrays["scale"]["names"])}


# --- the results ---------------------------------------------------------------------------

MAX_DRAWN = 1500          # test steps a result keeps for its chart
MAX_PATHS = 12            # whole forecasts drawn over them (the fan of the horizon)


def report(arrays: dict, pred: np.ndarray) -> tuple[dict, dict]:
    """The naive baselines (scaled, as test_mse is) and, in the first target's own units, the test part
    with the one-step-ahead forecast over it and a few whole forecasts (the fan of the horizon)."""
    scale, at = arrays["scale"], arrays["at_test"]
    first = scale["targets"][0]
    truth, (_, cut_test) = arrays["values"][:, first], arrays["cuts"]
    ahead = from_model(pred, arrays["last_test"], scale)[:, :, 0]   # (N, horizon), the first target
    horizon = ahead.shape[1]
    keep = at + 1 < cut_test + MAX_DRAWN
    history = max(0, cut_test - max(horizon * 4, 24))
    every = max(1, horizon, int(keep.sum()) // MAX_PATHS)
    details = {"name": scale["names"][first], "test_start": int(cut_test),
               "steps": list(range(history, min(len(truth), cut_test + MAX_DRAWN))),
               "true": _round(truth[history:cut_test + MAX_DRAWN]),
               "one_step": {"steps": (at[keep] + 1).tolist(), "pred": _round(ahead[keep, 0])},
               "paths": [{"start": int(at[i] + 1), "pred": _round(ahead[i])}
                         for i in range(0, int(keep.sum()), every)][:MAX_PATHS] if horizon > 1 else []}
    return dict(arrays["baselines"]), details


def _round(values) -> list[float]:
    return [float(f"{v:.5g}") for v in np.asarray(values, dtype=np.float64)]
