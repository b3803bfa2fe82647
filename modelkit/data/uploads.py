"""Uploaded data: a CSV table, a UTF-8 text or a ZIP of image folders, checked and stored once.

    preview = read_table(raw, "plants.csv")            # columns, gaps, a guess of target and kind
    ds = add_table(raw, "plants.csv", target="kind")   # checked, encoded, stored; ds.task = "ds-3f2a9c0d1e4b"
    ds = add_text(raw, "poems.txt") / add_images(raw, "pets.zip")

A stored dataset is offered as a task (modelkit.data.tasks resolves `ds-...` names), so
a run keeps pointing at it. Everything a user sends is data: parsed with pandas,
numpy (allow_pickle=False) and Pillow, never unpickled or executed; a ZIP is read
in memory and nothing is written outside the dataset's own folder. Every refusal
is a ConfigError("data", code, file=..., ...) whose words name the file and the
limit in the page's language. Limits come from the environment (MODELKIT_UPLOAD_*).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from modelkit.fields import MAX_TEXT, ConfigError

PREFIX = "ds-"
IMAGE_SIDE = 28                      # every image becomes IMAGE_SIDE x IMAGE_SIDE
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
TEXT_SUFFIXES = ("txt", "md", "rst")   # plain text to learn to write like
FEW_VALUES = 20                      # a text column with at most this many values is one-hot encoded


def limit(name: str, default: int) -> int:
    """MODELKIT_UPLOAD_<NAME>, else the default sized for a 2-core workshop machine."""
    try:
        return int(os.environ.get(f"MODELKIT_UPLOAD_{name}", default))
    except ValueError:
        return default


def limits() -> dict[str, int]:
    return {"mb": limit("MB", 50), "rows": limit("ROWS", 200_000), "columns": limit("COLUMNS", 1_000),
            "classes": limit("CLASSES", 100), "images": limit("IMAGES", 20_000),
            "pixels": limit("PIXELS", 16_000_000), "text": limit("TEXT", MAX_TEXT)}


@dataclass
class Dataset:
    id: str                          # content hash: the same upload is stored once
    name: str                        # the file's name, for people
    kind: str                        # table | text | images
    task_kind: str                   # classification | regression | lm
    owner: str = ""
    rows: int = 0
    columns: int = 0
    class_names: list = field(default_factory=list)
    features: list = field(default_factory=list)
    target: str = ""
    filled: int = 0                  # missing values filled in
    size: int = 0                    # bytes uploaded
    created: float = 0.0

    @property
    def task(self) -> str:
        return PREFIX + self.id


def home() -> Path:
    return Path(os.environ.get("MODELKIT_HOME") or ".modelkit").resolve() / "datasets"


def refuse(code: str, file: str, **params):
    raise ConfigError("data", code, file=file[:80], **params)


def _check_size(raw: bytes, file: str):
    if not raw:
        refuse("data_empty", file)
    if len(raw) > limits()["mb"] * 1024**2:
        refuse("data_too_big", file, n=limits()["mb"])


def _decode(raw: bytes, file: str) -> str:
    if b"\x00" in raw[:4096]:
        refuse("data_binary", file)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        refuse("data_encoding", file, where=f"{e.start:,}")


# --- tables ---------------------------------------------------------------------------

def read_table(raw: bytes, file: str):
    """The CSV as a DataFrame (comma, semicolon or tab; a header row), refused in plain words if it is not one."""
    import pandas as pd

    _check_size(raw, file)
    text = _decode(raw, file)
    try:
        dialect = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, engine="c", low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        refuse("data_not_csv", file)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[1] < 2:
        refuse("data_one_column", file)
    if len(frame) < 10:
        refuse("data_few_rows", file, n=10)
    if len(frame) > limits()["rows"]:
        refuse("data_rows", file, n=f"{limits()['rows']:,}")
    if frame.shape[1] > limits()["columns"]:
        refuse("data_columns", file, n=f"{limits()['columns']:,}")
    return frame


def guess_kind(column) -> str:
    """classification for text or a few whole numbers, else regression."""
    import pandas as pd

    values = column.dropna()
    if not pd.api.types.is_numeric_dtype(values):
        return "classification"
    whole = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    return "classification" if whole and values.nunique() <= FEW_VALUES else "regression"


TARGET_WORDS = ("species", "class", "label", "target", "category", "type", "kind", "outcome", "diagnosis",
                "variety", "grade", "result", "y")    # a column named like one of these is what to predict
NOT_TARGET_WORDS = ("id", "index", "row", "year", "date", "time", "timestamp", "name", "uuid", "no")


def _words(name: str) -> list[str]:
    import re

    return [w for w in re.split(r"[^0-9a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name)).lower()) if w]


def _looks_like_an_id_or_a_year(column) -> bool:
    """Named like an id or a date (and not like a target), one value per row, or whole numbers that all
    look like years."""
    import pandas as pd

    values, words = column.dropna(), set(_words(column.name))
    if words & set(NOT_TARGET_WORDS) and not words & set(TARGET_WORDS):
        return True
    if len(values) and values.nunique() == len(values) and not pd.api.types.is_float_dtype(values):
        return True   # every row its own value: a name, a code, a counter
    if pd.api.types.is_integer_dtype(values) and len(values):
        return bool(values.between(1800, 2100).all())
    return False


def guess_target(frame) -> tuple[str, str]:
    """(column, why) the way a person would pick what to predict; why is a message code (upload.why.<why>).

    A column named like species / class / label / target first; else a text column with a few values; else
    a few whole numbers; else the last number that is not an id or a year. Never an id or a year, unless
    every column is one (then the last column)."""
    candidates = [c for c in frame.columns if not _looks_like_an_id_or_a_year(frame[c])]
    few = [c for c in candidates if 2 <= frame[c].nunique() <= FEW_VALUES]
    for name in few:
        if set(_words(name)) & set(TARGET_WORDS):
            return name, "named"
    import pandas as pd

    for name in few:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            return name, "few_text"
    for name in few:
        if guess_kind(frame[name]) == "classification":
            return name, "few_numbers"
    numbers = [c for c in candidates if pd.api.types.is_numeric_dtype(frame[c])]
    if numbers:
        return numbers[-1], "last_number"
    return frame.columns[-1], "last"


def encode_table(frame, target: str, task_kind: str | None, file: str):
    """(x float32, y, features, class_names, filled): numbers as they are, few-valued text one-hot, gaps filled."""
    import pandas as pd

    if target not in frame.columns:
        refuse("data_no_target", file, target=target[:40])
    y_col = frame[target]
    if y_col.isna().any():
        frame, y_col = frame[y_col.notna()], y_col[y_col.notna()]
    task_kind = task_kind or guess_kind(y_col)
    parts, features, filled = [], [], 0
    for name in frame.columns:
        if name == target:
            continue
        col = frame[name]
        filled += int(col.isna().sum())
        if pd.api.types.is_numeric_dtype(col):
            parts.append(col.fillna(col.median() if col.notna().any() else 0.0).to_numpy(dtype=np.float32)[:, None])
            features.append(name)
        elif col.nunique() <= FEW_VALUES:
            dummies = pd.get_dummies(col.fillna(col.mode().iloc[0] if col.notna().any() else ""), prefix=name)
            parts.append(dummies.to_numpy(dtype=np.float32))
            features += [str(c) for c in dummies.columns]
        else:
            refuse("data_text_column", file, column=str(name)[:40], n=FEW_VALUES)
    x = np.concatenate(parts, axis=1)
    if task_kind == "regression":
        if not pd.api.types.is_numeric_dtype(y_col):
            refuse("data_target_not_number", file, target=target[:40])
        return x, y_col.to_numpy(dtype=np.float32)[:, None], features, [], filled
    names = sorted(y_col.astype(str).unique())
    _check_classes(len(names), file)
    index = {n: i for i, n in enumerate(names)}
    return x, y_col.astype(str).map(index).to_numpy(dtype=np.int64), features, names, filled


def _check_classes(n: int, file: str):
    if n < 2:
        refuse("data_one_class", file)
    if n > limits()["classes"]:
        refuse("data_classes", file, n=limits()["classes"])


def add_table(raw: bytes, file: str, target: str, task_kind: str | None = None, owner: str = "") -> Dataset:
    frame = read_table(raw, file)
    x, y, features, classes, filled = encode_table(frame, target, task_kind, file)
    ds = Dataset(_hash(raw, target, task_kind or ""), file, "table",
                 "regression" if y.dtype == np.float32 else "classification", owner, len(x), x.shape[1],
                 classes, features, target, filled, len(raw))
    return _save(ds, {"x": x, "y": y})


# --- text -----------------------------------------------------------------------------

def read_text(raw: bytes, file: str) -> str:
    """A UTF-8 text (.txt, .md, .rst ...), refused in plain words if it is binary, not UTF-8 or too big."""
    _check_size(raw, file)
    return _decode(raw, file)


def add_text(raw: bytes, file: str, owner: str = "") -> Dataset:
    text = read_text(raw, file)
    if len(text) > limits()["text"]:
        refuse("data_text_long", file, n=f"{limits()['text']:,}")
    if len(text.strip()) < 1000:
        refuse("data_text_short", file, n=1000)
    ds = Dataset(_hash(raw), file, "text", "lm", owner, len(text), len(set(text)), size=len(raw))
    return _save(ds, {}, text=text)


# --- images ---------------------------------------------------------------------------

def _zip_members(raw: bytes, file: str) -> list[tuple[str, zipfile.ZipInfo]]:
    """(class, member) of each image in class folders; hostile archives are refused, nothing is extracted."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        refuse("data_not_zip", file)
    if sum(i.file_size for i in infos) > 4 * limits()["mb"] * 1024**2:
        refuse("data_bomb", file)
    members = []
    for info in infos:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or info.filename.startswith("/"):
            refuse("data_zip_path", file, member=info.filename[:60])
        if (info.external_attr >> 16) & 0o170000 == 0o120000:   # a symbolic link
            refuse("data_zip_link", file, member=info.filename[:60])
        parts = [p for p in path.parts if p not in ("", ".")]
        if info.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1].startswith("."):
            continue
        if path.suffix.lower() == ".zip":
            refuse("data_zip_nested", file, member=info.filename[:60])
        if path.suffix.lower() in IMAGE_TYPES and len(parts) >= 2:
            members.append((parts[0], info))
    if not members:
        refuse("data_no_images", file)
    if len(members) > limits()["images"]:
        refuse("data_images", file, n=f"{limits()['images']:,}")
    return [(c, i) for c, i in members], archive


def _image(archive, info, file: str, color: bool) -> np.ndarray:
    from PIL import Image

    try:
        with archive.open(info) as f, Image.open(io.BytesIO(f.read(limits()["mb"] * 1024**2))) as im:
            if im.width * im.height > limits()["pixels"]:
                refuse("data_image_huge", file, member=info.filename[:60], n=f"{limits()['pixels']:,}")
            im = im.convert("RGB" if color else "L").resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BILINEAR)
            arr = np.asarray(im, dtype=np.float32) / 255.0
    except ConfigError:
        raise
    except Exception:   # Pillow raises many kinds for a file that is not an image (or a bomb)
        refuse("data_not_image", file, member=info.filename[:60])
    return arr.transpose(2, 0, 1) if color else arr[None]


def add_images(raw: bytes, file: str, owner: str = "") -> Dataset:
    from PIL import Image

    _check_size(raw, file)
    members, archive = _zip_members(raw, file)
    classes = sorted({c for c, _ in members})
    _check_classes(len(classes), file)
    color = False
    for _, info in members[:20]:   # colour if the first images are
        try:
            with archive.open(info) as f, Image.open(io.BytesIO(f.read(limits()["mb"] * 1024**2))) as im:
                color = color or im.mode not in ("1", "L", "LA", "I", "I;16", "F")
        except Exception:
            pass
    index = {c: i for i, c in enumerate(classes)}
    x = np.stack([_image(archive, info, file, color) for _, info in members])
    y = np.array([index[c] for c, _ in members], dtype=np.int64)
    ds = Dataset(_hash(raw), file, "images", "classification", owner, len(x), x.shape[1], classes, size=len(raw))
    return _save(ds, {"x": x, "y": y})


# --- storage --------------------------------------------------------------------------

def _hash(raw: bytes, *choices: str) -> str:
    h = hashlib.sha256(raw)
    for c in choices:
        h.update(b"\x00" + c.encode("utf-8"))
    return h.hexdigest()[:12]


def _save(ds: Dataset, arrays: dict, text: str | None = None) -> Dataset:
    folder = home() / ds.id
    if (folder / "meta.json").exists():
        return get(ds.id)   # the same upload: stored once
    ds.created = time.time()
    tmp = home() / f".{ds.id}.{os.getpid()}.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    if arrays:
        np.savez(tmp / "data.npz", **arrays)
    if text is not None:
        (tmp / "text.txt").write_text(text, encoding="utf-8")
    (tmp / "meta.json").write_text(json.dumps(asdict(ds), ensure_ascii=False), encoding="utf-8")
    try:
        os.replace(tmp, folder)   # a reader sees no dataset or the whole dataset
    except OSError:
        pass                      # another process stored the same upload first
    return get(ds.id)


def get(dataset_id: str) -> Dataset | None:
    if not isinstance(dataset_id, str) or not dataset_id.isalnum():
        return None
    try:
        meta = json.loads((home() / dataset_id / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Dataset(**meta)


def from_task(task_name: str) -> Dataset | None:
    return get(task_name[len(PREFIX):]) if task_name.startswith(PREFIX) else None


def arrays(ds: Dataset) -> dict[str, np.ndarray]:
    with np.load(home() / ds.id / "data.npz", allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def text(ds: Dataset) -> str:
    return (home() / ds.id / "text.txt").read_text(encoding="utf-8")


def list_datasets() -> list[Dataset]:
    found = [get(p.name) for p in home().glob("*") if p.is_dir() and not p.name.startswith(".")]
    return sorted((d for d in found if d is not None), key=lambda d: d.created)


def delete(dataset_id: str) -> bool:
    import shutil

    folder = home() / dataset_id
    if get(dataset_id) is None:
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True
