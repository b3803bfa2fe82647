"""Task registry: each task builds train/val/test tensors and a TaskSpec, offline.

Tensors by `TaskSpec.input_kind`:
  vector   x (N, F) float32           2-D toy sets, tabular sets
  image    x (N, C, H, W) float32     digits
  sequence x (N, L) float32           mnist1d, sine, a series of one column
           x (N, L, C) float32        a series of C input columns (TaskSpec.channels)
  tokens   x (N, T) int64             text (character ids)
Targets by `TaskSpec.kind`:
  classification  y (N,) int64 class ids      model output (N, n_outputs) logits
  regression      y (N, n_outputs) float32    model output (N, n_outputs)
  lm              y (N, T) int64 next chars   model output (N, T, n_outputs) logits
"""
from __future__ import annotations

import dataclasses
import functools
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from modelkit import settings
from modelkit.data import forecast, uploads
from modelkit.fields import ConfigError, TaskConfig


@dataclass(frozen=True)
class TaskSpec:
    name: str
    kind: str                 # classification | regression | lm
    input_kind: str           # vector | image | sequence | tokens
    input_shape: tuple        # one example's shape, e.g. (2,), (1, 8, 8), (40,), (64,)
    n_outputs: int            # classes, forecast values or vocabulary size
    class_names: tuple = ()
    vocab: str = ""           # lm only: the characters; a token id indexes this string

    @property
    def channels(self) -> int:
        """Values per step of a sequence: 1, or one per input column of a series (input_shape (L, C))."""
        return self.input_shape[1] if self.input_kind == "sequence" and len(self.input_shape) == 2 else 1


@dataclass
class TaskData:
    spec: TaskSpec
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    extra: dict = field(default_factory=dict)  # e.g. character frequencies for the lm baseline


@dataclass(frozen=True)
class Kind:
    """What every task of a kind is judged by and trained with."""
    metric: str               # the headline test metric: a leaderboard's score, a run's one figure
    losses: tuple             # the losses that fit it; the first is what "auto" means


KINDS = {"classification": Kind("test_accuracy", ("cross_entropy", "mse")),
         "regression": Kind("test_r2", ("mse", "mae")),
         "lm": Kind("test_perplexity", ("cross_entropy",))}


def fitting_loss(loss: str, kind: str) -> str:
    """The loss a run of this kind trains with (`auto` resolved); refuses one that does not fit it."""
    losses = KINDS[kind].losses
    if loss == "auto":
        return losses[0]
    if loss not in losses:
        raise ConfigError("train.loss", f"loss_{kind}", choices=", ".join(losses))
    return loss


@dataclass(frozen=True)
class TaskInfo:
    """What is known of a task before its data is built: enough for forms, pairing checks and polling.

    Its words are in the translation files: task.<name>.title and task.<name>.desc."""
    name: str
    kind: str                 # classification | regression | lm
    input_kind: str           # vector | image | sequence | tokens
    build: Callable[[TaskConfig], "TaskData"]
    params: tuple = ()        # TaskConfig fields this task uses, for the forms
    check: Callable[[TaskConfig], None] | None = None   # refusals known before the data is built
    table: bool = False       # a standardised table: raw rows in the user's own units (cm, mg/l) are scaled
                              # with the training rows' mean and spread (TaskData.extra) before the model
    try_view: str = "point"   # Try it's view: point | table | image | sequence | series | text
    package: str = "nothing more"   # what the exported train.py needs besides torch and numpy for its data
    skips: frozenset = frozenset()   # sections of a finished run that do not apply to this task
                                     # ("replay_boundary": no 2-D plane to replay)

    @property
    def metric(self) -> str:
        return KINDS[self.kind].metric

    @property
    def losses(self) -> tuple:
        return KINDS[self.kind].losses


TASKS: dict[str, TaskInfo] = {}   # the one list of tasks, in the order the pickers show them


def register(info: TaskInfo) -> TaskInfo:
    """Add a task: the CLI, the pages and the config check offer it from then on."""
    TASKS[info.name] = info
    return info


def check(cfg: TaskConfig):
    """Refuse what the task would refuse when building its data, without building it."""
    info = task_info(cfg.name)
    if info.check is not None:
        info.check(cfg)


def task_info(name: str) -> TaskInfo:
    """The registry's entry, or an uploaded dataset's (ds-<id>, see modelkit.data.uploads)."""
    if name in TASKS:
        return TASKS[name]
    ds = uploads.from_task(name) if isinstance(name, str) else None
    if ds is None:
        raise ConfigError("task.name", "unknown_task", choices=", ".join(TASKS), value=repr(name)[:40])
    if ds.kind == "text":
        return TaskInfo(name, "lm", "tokens", _uploaded_text, ("seq_len",), check=_check_uploaded_text,
                        try_view="text", package=UPLOADED_PACKAGE, skips=NO_PLANE)
    if ds.kind == "series":   # windows of a series: no table row to standardise, no plane, its own Try it
        return TaskInfo(name, "regression", "sequence", _uploaded_series, ("seq_len", "horizon"),
                        check=_check_uploaded_series, try_view="series", package=UPLOADED_PACKAGE, skips=NO_PLANE)
    if ds.kind == "images":
        return TaskInfo(name, ds.task_kind, "image", _uploaded, try_view="image", package=UPLOADED_PACKAGE,
                        skips=NO_PLANE)
    return TaskInfo(name, ds.task_kind, "vector", _uploaded, table=True, try_view="table", package=UPLOADED_PACKAGE,
                    skips=NO_PLANE)


UPLOADED_PACKAGE = "nothing more (your data travels beside it, as data.npz or data.txt)"


# --- building the data --------------------------------------------------------

_CACHE: dict[str, TaskData] = {}   # shared, never mutated by its readers
_CACHE_LOCK = threading.Lock()


def load(cfg: TaskConfig) -> TaskData:
    """The task's tensors and spec; deterministic for a config, cached in-process."""
    info = task_info(cfg.name)
    key = repr(cfg)
    data = _CACHE.get(key)
    if data is None:
        data = info.build(cfg)            # two threads may build the same data once each: harmless
        with _CACHE_LOCK:                 # the dashboard's sessions share this cache
            _CACHE[key] = data
            while len(_CACHE) > 16:       # keep memory bounded in a long-lived process
                _CACHE.pop(next(iter(_CACHE)))
    return data


HOLDOUT_SEED = 20_261_202   # which rows are held back does not depend on task.seed: one hidden set per data


def hold_back(cfg: TaskConfig, x, y) -> tuple:
    """(x, y) without the `cfg.holdout` fraction of rows a hidden test keeps, and those rows (None without)."""
    if not cfg.holdout:
        return x, y, None
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(HOLDOUT_SEED))
    n_held = max(1, int(round(len(x) * cfg.holdout)))
    held, kept = order[:n_held], order[n_held:].sort().values
    return x[kept], y[kept], (x[held], y[held])


def split(cfg: TaskConfig, spec: TaskSpec, x, y, test=None, extra=None) -> TaskData:
    """Hold back a hidden test's rows (task.holdout), shuffle with the task seed, then cut validation (and
    test, unless given) off. The held-back rows are in extra["hidden"]: no page shows them, no run trains on them."""
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    x, y, hidden = hold_back(cfg, x, y)
    extra = dict(extra or {}, **({"hidden": hidden} if hidden is not None else {}))
    g = torch.Generator().manual_seed(cfg.seed)
    order = torch.randperm(len(x), generator=g)
    x, y = x[order], y[order]
    if test is None:
        n_test = max(1, int(round(len(x) * cfg.test_fraction)))
        test, x, y = (x[:n_test], y[:n_test]), x[n_test:], y[n_test:]
    n_val = max(1, int(round(len(x) * cfg.val_fraction)))
    return TaskData(spec, x[n_val:], y[n_val:], x[:n_val], y[:n_val],
                    torch.as_tensor(test[0]), torch.as_tensor(test[1]), extra)


def _standardise(data: TaskData, feature_names) -> TaskData:
    """Every split scaled with the training rows' mean and spread, which `extra` keeps (with the columns'
    names): what turns a raw row in the table's own units into what the model saw (see in_own_units)."""
    mean, std = data.x_train.mean(0, keepdim=True), data.x_train.std(0, keepdim=True).clamp_min(1e-6)
    data.x_train, data.x_val, data.x_test = [(t - mean) / std for t in (data.x_train, data.x_val, data.x_test)]
    if "hidden" in data.extra:   # the hidden rows as the model sees every row: scaled like the training rows
        data.extra["hidden"] = ((data.extra["hidden"][0] - mean) / std, data.extra["hidden"][1])
    data.extra.update(feature_mean=mean, feature_std=std, feature_names=[str(n) for n in feature_names])
    return data


def feature_names(data: TaskData) -> list[str] | None:
    """A table's own column names (one-hot columns as `column_value`), or None where the columns have none."""
    return data.extra.get("feature_names")


def in_own_units(data: TaskData, x: torch.Tensor) -> torch.Tensor:
    """Standardised table rows (N, F) back in the file's own units; other tasks' inputs unchanged."""
    if "feature_mean" not in data.extra:
        return x
    return x * data.extra["feature_std"] + data.extra["feature_mean"]


def _toy(cfg: TaskConfig) -> TaskData:
    import numpy as np
    from sklearn import datasets

    rng = np.random.default_rng(cfg.seed)
    n, noise = cfg.n_samples, cfg.noise
    if cfg.name == "moons":
        x, y = datasets.make_moons(n, noise=noise, random_state=cfg.seed)
    elif cfg.name == "circles":
        x, y = datasets.make_circles(n, noise=noise, factor=0.5, random_state=cfg.seed)
    elif cfg.name == "blobs":
        x, y = datasets.make_blobs(n, centers=3, cluster_std=1.0 + 4 * noise, random_state=cfg.seed)
    elif cfg.name == "xor":
        x = rng.uniform(-1, 1, size=(n, 2))
        y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
        x = x + rng.normal(0, noise, size=x.shape)
    else:  # spiral: two arms, each turning 1.75 times
        y = np.arange(n) % 2
        r = rng.uniform(0.05, 1.0, size=n)
        angle = 3.5 * np.pi * r + np.pi * y
        x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1) + rng.normal(0, noise * 0.3, size=(n, 2))
    x = torch.tensor(x, dtype=torch.float32)
    x = (x - x.mean(0)) / x.std(0)
    n_classes = int(y.max()) + 1
    spec = TaskSpec(cfg.name, "classification", "vector", (2,), n_classes,
                    tuple(f"class {i}" for i in range(n_classes)))
    return split(cfg, spec, x, torch.tensor(y, dtype=torch.int64))


def _tabular(cfg: TaskConfig) -> TaskData:
    from sklearn import datasets

    bunch = {"iris": datasets.load_iris, "wine": datasets.load_wine,
             "breast_cancer": datasets.load_breast_cancer}[cfg.name]()
    x = torch.tensor(bunch.data, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.int64)
    spec = TaskSpec(cfg.name, "classification", "vector", (x.shape[1],), len(bunch.target_names),
                    tuple(str(n) for n in bunch.target_names))
    return _standardise(split(cfg, spec, x, y), bunch.feature_names)


def _digits(cfg: TaskConfig) -> TaskData:
    from sklearn import datasets

    bunch = datasets.load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8) in [0, 1]
    y = torch.tensor(bunch.target, dtype=torch.int64)
    spec = TaskSpec("digits", "classification", "image", (1, 8, 8), 10, tuple(str(i) for i in range(10)))
    return split(cfg, spec, x, y)


def _mnist1d_arrays() -> dict:
    """The generator's output with its default arguments (never its download path).

    Generating takes seconds, so the arrays are kept as a plain .npz (no pickle)
    under MODELKIT_HOME/cache and read back in milliseconds by later processes.
    """
    import os
    from importlib.metadata import version

    import numpy as np

    path = settings.home() / "cache" / f"mnist1d-{version('mnist1d')}-default.npz"
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in ("x", "y", "x_test", "y_test")}
    except (OSError, ValueError, KeyError):
        pass
    from mnist1d.data import get_dataset_args, make_dataset

    ds = make_dataset(get_dataset_args())
    arrays = {k: np.asarray(ds[k]) for k in ("x", "y", "x_test", "y_test")}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)   # atomic: a concurrent reader sees the old file or the whole new one
    except OSError:
        pass                    # a read-only home only costs the seconds again next time
    return arrays


def _mnist1d(cfg: TaskConfig) -> TaskData:
    ds = _mnist1d_arrays()
    spec = TaskSpec("mnist1d", "classification", "sequence", (40,), 10, tuple(str(i) for i in range(10)))
    x = torch.tensor(ds["x"], dtype=torch.float32)
    test = (torch.tensor(ds["x_test"], dtype=torch.float32), torch.tensor(ds["y_test"], dtype=torch.int64))
    return split(cfg, spec, x, torch.tensor(ds["y"], dtype=torch.int64), test=test)


def _sine(cfg: TaskConfig) -> TaskData:
    """Windows of noisy sine waves with random frequency and phase; predict the next `horizon` values."""
    g = torch.Generator().manual_seed(cfg.seed)
    n, length = cfg.n_samples, cfg.seq_len + cfg.horizon
    freq = 0.02 + 0.10 * torch.rand(n, 1, generator=g)   # periods of 8 to 50 steps: waves, not zig-zags
    phase = 2 * torch.pi * torch.rand(n, 1, generator=g)
    amp = 0.5 + torch.rand(n, 1, generator=g)
    t = torch.arange(length, dtype=torch.float32)
    clean = amp * torch.sin(2 * torch.pi * freq * t + phase)
    series = clean + cfg.noise * torch.randn(n, length, generator=g)
    spec = TaskSpec("sine", "regression", "sequence", (cfg.seq_len,), cfg.horizon)
    return split(cfg, spec, series[:, :cfg.seq_len], clean[:, cfg.seq_len:])


def default_text() -> str:
    """The English documentation that ships with every Python: offline and always there."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k] for k in sorted(topics))


CHINESE_CORPUS = Path(__file__).resolve().parents[2] / "assets" / "corpus" / "tang_poems.txt"
COMMON_CHARACTERS = 2500         # the poems kept use only these most frequent characters: a vocabulary
                                 # half the size of all of them, so a CPU learns twice as fast


def tang_poems() -> list[str]:
    """Tang-dynasty poems (public domain) in simplified characters, one string per poem: 3,990 poems of
    190,000 characters written with the COMMON_CHARACTERS commonest characters, shipped in assets/corpus
    (taken from the MIT-licensed chinese-poetry collection: assets/corpus/README.md says how)."""
    return list(_tang_poems())


@functools.lru_cache(maxsize=1)
def _tang_poems() -> tuple[str, ...]:
    return tuple(line for line in CHINESE_CORPUS.read_text(encoding="utf-8").split("\n") if line)


def chinese_text() -> str:
    """The Tang poems, one poem a line."""
    return "\n".join(_tang_poems())


CORPUS_TEXT = {"en": default_text, "zh": chinese_text}   # TaskConfig.corpus -> its text


def corpus_text(corpus: str) -> str:
    return CORPUS_TEXT[corpus]()


def _text_min_length(cfg: TaskConfig) -> int:
    """Characters the split needs: validation and test (each half its fraction) hold a whole window."""
    return math.ceil(2 * (cfg.seq_len + 3) / min(cfg.val_fraction, cfg.test_fraction))


def _check_text(cfg: TaskConfig):
    if cfg.text and len(cfg.text) < _text_min_length(cfg):
        raise ConfigError("task.text", "text_short", n=f"{_text_min_length(cfg):,}")


def task_text(cfg: TaskConfig) -> str:
    """The text a text task learns: pasted into the form, an uploaded file, or the built-in corpus."""
    ds = uploads.from_task(cfg.name)
    if ds is not None:
        return uploads.text(ds)
    return cfg.text if cfg.text else corpus_text(cfg.corpus)


def _text(cfg: TaskConfig) -> TaskData:
    _check_text(cfg)
    text = task_text(cfg)
    vocab = "".join(sorted(set(text)))
    ids = torch.tensor(_encode(text, vocab), dtype=torch.int64)
    # Contiguous pieces, test at the end and validation before it, so no training window overlaps them.
    n = len(ids)
    cut_test, cut_val = int(n * (1 - cfg.test_fraction / 2)), int(n * (1 - cfg.test_fraction / 2 - cfg.val_fraction / 2))
    parts = [ids[:cut_val], ids[cut_val:cut_test], ids[cut_test:]]
    windows = [_windows(p, cfg.seq_len, stride) for p, stride in zip(parts, (cfg.seq_len // 2 or 1, cfg.seq_len, cfg.seq_len))]
    counts = torch.bincount(parts[0], minlength=len(vocab)).float()
    spec = TaskSpec(cfg.name, "lm", "tokens", (cfg.seq_len,), len(vocab), (), vocab)
    (xtr, ytr), (xva, yva), (xte, yte) = windows
    return TaskData(spec, xtr, ytr, xva, yva, xte, yte, {"char_freq": (counts / counts.sum()).tolist()})


def _encode(text: str, vocab: str) -> list[int]:
    index = {c: i for i, c in enumerate(vocab)}
    return [index[c] for c in text]


def _windows(ids: torch.Tensor, seq_len: int, stride: int):
    starts = torch.arange(0, len(ids) - seq_len - 1, stride)
    offsets = torch.arange(seq_len)
    x = ids[starts[:, None] + offsets]       # (N, T)
    return x, ids[starts[:, None] + offsets + 1]


def _uploaded(cfg: TaskConfig) -> TaskData:
    """An uploaded table (standardised on its training part, like the bundled tables) or image folder."""
    ds = uploads.from_task(cfg.name)
    arrays = uploads.arrays(ds)
    x, y = torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"])
    outputs = len(ds.class_names) if ds.task_kind == "classification" else y.shape[1]
    spec = TaskSpec(cfg.name, ds.task_kind, "image" if ds.kind == "images" else "vector", tuple(x.shape[1:]),
                    outputs, tuple(ds.class_names))
    data = split(cfg, spec, x, y)
    if not task_info(cfg.name).table:
        return data
    data.extra["table_inputs"] = ds.inputs   # a raw row's text columns as their values (modelkit.data.rows)
    return _standardise(data, ds.features)


def _check_uploaded_text(cfg: TaskConfig):
    _check_text(dataclasses.replace(cfg, text=task_text(cfg)))


def _uploaded_text(cfg: TaskConfig) -> TaskData:
    return _text(dataclasses.replace(cfg, text=task_text(cfg)))


def _check_uploaded_series(cfg: TaskConfig):
    forecast.check(uploads.from_task(cfg.name), cfg.seq_len, cfg.horizon, cfg.val_fraction, cfg.test_fraction)


def _uploaded_series(cfg: TaskConfig) -> TaskData:
    """An uploaded series: windows of `seq_len` steps forecasting `horizon` steps, split by time, never
    shuffled (modelkit.data.forecast); extra["series"] holds the scaling, origins and naive baselines."""
    ds = uploads.from_task(cfg.name)
    arrays = forecast.windows(ds, cfg.seq_len, cfg.horizon, cfg.val_fraction, cfg.test_fraction)
    xtr, ytr, xva, yva, xte, yte = (torch.from_numpy(arrays[f"{k}_{part}"]) for part in ("train", "val", "test")
                                    for k in "xy")
    spec = TaskSpec(cfg.name, "regression", "sequence", tuple(xtr.shape[1:]), ytr.shape[1])
    return TaskData(spec, xtr, ytr, xva, yva, xte, yte, {"series": arrays})


NO_PLANE = frozenset({"replay_boundary"})   # only a 2-D toy set has a decision boundary to replay
TOY_PARAMS = ("n_samples", "noise")
for _name in ("moons", "circles", "spiral", "xor", "blobs"):
    register(TaskInfo(_name, "classification", "vector", _toy, TOY_PARAMS, package="scikit-learn"))
for _name in ("iris", "wine", "breast_cancer"):
    register(TaskInfo(_name, "classification", "vector", _tabular, table=True, try_view="table",
                      package="scikit-learn", skips=NO_PLANE))
register(TaskInfo("digits", "classification", "image", _digits, try_view="image", package="scikit-learn",
                  skips=NO_PLANE))
register(TaskInfo("mnist1d", "classification", "sequence", _mnist1d, try_view="sequence", package="mnist1d",
                  skips=NO_PLANE))
register(TaskInfo("sine", "regression", "sequence", _sine, ("n_samples", "noise", "seq_len", "horizon"),
                  try_view="sequence", skips=NO_PLANE))
register(TaskInfo("text", "lm", "tokens", _text, ("seq_len", "corpus", "text"), check=_check_text,
                  try_view="text", skips=NO_PLANE))
