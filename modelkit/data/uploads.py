"""Uploaded data: a CSV table, a UTF-8 text or a ZIP of image folders, checked and stored once.

    preview = read_table(raw, "plants.csv")            # columns, gaps, a guess of target and kind
    ds = add_table(raw, "plants.csv", target="kind")   # checked, encoded, stored; ds.task = "ds-3f2a9c0d1e4b"
    ds = add_text(raw, "poems.txt") / add_images(raw, "pets.zip")

A stored dataset is offered as a task (modelkit.data.tasks resolves `ds-...` names), so
a run keeps pointing at it. It is kept as blobs in the store's database
(dataset/<id>/data.npz or text.txt, then meta.json), so every machine of a room reads
it. Everything a user sends is data: parsed with pandas, numpy (allow_pickle=False)
and Pillow, never unpickled or executed; a ZIP is read in memory and nothing of it
is written to disk. Every refusal
is a ConfigError("data", code, file=..., ...) whose words name the file and the
limit in the page's language. Limits come from the environment (MODELKIT_UPLOAD_*).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath

import numpy as np

from modelkit import settings
from modelkit.data import blobs, peek
from modelkit.fields import MAX_TEXT, ConfigError

PREFIX = "ds-"
STORED = "dataset/"                  # its blobs' names: dataset/<id>/<file>
META_FILE = "meta.json"
IMAGE_SIDE = 28                      # every image becomes IMAGE_SIDE x IMAGE_SIDE
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
TEXT_SUFFIXES = ("txt", "md", "rst")   # plain text to learn to write like
FEW_VALUES = 20                      # a text column with at most this many values is one-hot encoded
ZIP_ENTRIES_PER_IMAGE = 3            # an archive may hold this many entries per image allowed (folders, junk)


def limit(name: str, default: int) -> int:
    """MODELKIT_UPLOAD_<NAME>, else the default sized for a 2-core workshop machine."""
    return settings.upload_limit(name, default)


def limits() -> dict[str, int]:
    return {"mb": limit("MB", 50), "rows": limit("ROWS", 200_000), "columns": limit("COLUMNS", 1_000),
            "classes": limit("CLASSES", 100), "images": limit("IMAGES", 20_000),
            "pixels": limit("PIXELS", 16_000_000), "total_pixels": limit("TOTAL_PIXELS", 400_000_000),
            "text": limit("TEXT", MAX_TEXT)}


@dataclass
class Dataset:
    id: str                          # content hash: the same upload is stored once
    name: str                        # the file's name, for people
    kind: str                        # table | series | text | images
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
    series: dict = field(default_factory=dict)   # a series' targets, inputs and steps (modelkit.data.series)
    inputs: list = field(default_factory=list)   # a table's input columns as people fill them in (data.rows)

    @property
    def task(self) -> str:
        return PREFIX + self.id


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

def read_table(raw: bytes, file: str, min_columns: int = 2):
    """The CSV as a DataFrame (comma, semicolon or tab; a header row), refused in plain words if it is not one.

    A table needs inputs and a target (two columns); a series may be one column of values in order."""
    import pandas as pd

    _check_size(raw, file)
    sep = _separator(raw)
    _check_shape(raw, sep, file)
    _decode(raw, file)   # refused here if it is not UTF-8; pandas reads the bytes (a str copy would be 4x them)
    try:
        frame = pd.read_csv(io.BytesIO(raw), sep=sep, engine="c", low_memory=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        refuse("data_not_csv", file)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[1] < min_columns:
        refuse("data_one_column", file)
    if len(frame) < 10:
        refuse("data_few_rows", file, n=10)
    if len(frame) > limits()["rows"]:
        refuse("data_rows", file, n=f"{limits()['rows']:,}")
    if frame.shape[1] > limits()["columns"]:
        refuse("data_columns", file, n=f"{limits()['columns']:,}")
    return frame


def _separator(raw: bytes) -> str:
    try:
        return csv.Sniffer().sniff(raw[:20_000].decode("utf-8", errors="ignore"), delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _check_shape(raw: bytes, sep: str, file: str):
    """Columns and rows counted on the bytes, refused before pandas builds a frame of them."""
    if peek.header_columns(raw, sep) > limits()["columns"]:
        refuse("data_columns", file, n=f"{limits()['columns']:,}")
    lines = peek.data_lines(raw)
    if lines is not None and lines > limits()["rows"]:
        refuse("data_rows", file, n=f"{limits()['rows']:,}")


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
    """(x float32, y, features, class_names, filled, inputs): numbers as they are, few-valued text one-hot,
    gaps filled; `inputs` the input columns as a person fills them in (modelkit.data.rows)."""
    import pandas as pd

    if target not in frame.columns:
        refuse("data_no_target", file, target=target[:40])
    y_col = frame[target]
    if y_col.isna().any():
        frame, y_col = frame[y_col.notna()], y_col[y_col.notna()]
    if len(frame) < 10:
        refuse("data_few_rows", file, n=10)
    task_kind = task_kind or guess_kind(y_col)
    parts, features, filled, inputs = [], [], 0, []
    for name in frame.columns:
        if name == target:
            continue
        col = frame[name]
        filled += int(col.isna().sum())
        if not col.notna().any():
            refuse("data_empty_column", file, column=str(name)[:40])
        if pd.api.types.is_numeric_dtype(col):
            parts.append(_finite(col.fillna(col.median()), file, name)[:, None])
            features.append(name)
            inputs.append({"name": str(name)})
        elif col.nunique() <= FEW_VALUES:
            text = col.fillna(col.mode().iloc[0]).astype(str)
            values = sorted(text.unique())
            parts.append(np.stack([(text == v).to_numpy() for v in values], 1).astype(np.float32))   # one-hot
            features += [f"{name}_{v}" for v in values]
            inputs.append({"name": str(name), "values": values})
            continue
        else:
            refuse("data_text_column", file, column=str(name)[:40], n=FEW_VALUES)
    x = np.concatenate(parts, axis=1)
    if task_kind == "regression":
        if not pd.api.types.is_numeric_dtype(y_col):
            refuse("data_target_not_number", file, target=target[:40])
        return x, _finite(y_col, file, target)[:, None], features, [], filled, inputs
    names = sorted(y_col.astype(str).unique())
    _check_classes(len(names), file)
    index = {n: i for i, n in enumerate(names)}
    return x, y_col.astype(str).map(index).to_numpy(dtype=np.int64), features, names, filled, inputs


def _finite(column, file: str, name) -> np.ndarray:
    """The column as float32, refused naming it if a cell is infinite or beyond what float32 holds."""
    with np.errstate(over="ignore"):
        values = column.to_numpy(dtype=np.float32)
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.argmax(bad))
        refuse("data_not_finite", file, column=str(name)[:40], cell=str(column.iloc[first])[:20])
    return values


def _check_classes(n: int, file: str):
    if n < 2:
        refuse("data_one_class", file)
    if n > limits()["classes"]:
        refuse("data_classes", file, n=limits()["classes"])


def add_table(raw: bytes, file: str, target: str, task_kind: str | None = None, owner: str = "") -> Dataset:
    frame = read_table(raw, file)
    x, y, features, classes, filled, inputs = encode_table(frame, target, task_kind, file)
    ds = Dataset(_hash(raw, target, task_kind or ""), file, "table",
                 "regression" if y.dtype == np.float32 else "classification", owner, len(x), x.shape[1],
                 classes, features, target, filled, len(raw), inputs=inputs)
    return _save(ds, {"x": x, "y": y})


# --- text -----------------------------------------------------------------------------

def read_text(raw: bytes, file: str) -> str:
    """A UTF-8 text (.txt, .md, .rst ...), refused in plain words if it is binary, not UTF-8 or too big."""
    _check_size(raw, file)
    if len(raw) > 4 * limits()["text"] + 3:   # UTF-8 takes at most 4 bytes a character (3 for the BOM)
        refuse("data_text_long", file, n=f"{limits()['text']:,}")
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
    archive = _open_zip(raw, file)
    infos = archive.infolist()
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
        if info.is_dir() or not parts or _added_by_the_system(parts):
            continue
        if path.suffix.lower() == ".zip":
            refuse("data_zip_nested", file, member=info.filename[:60])
        if path.suffix.lower() in IMAGE_TYPES:   # anything else (README.txt, notes) is not data: left out
            members.append((parts, info))
    members = _by_class_folder(members)
    if not members:
        refuse("data_no_images", file)
    if len(members) > limits()["images"]:
        refuse("data_images", file, n=f"{limits()['images']:,}")
    return [(c, i) for c, i in members], archive


SYSTEM_FILES = ("thumbs.db", "desktop.ini", ".ds_store")   # what Windows and macOS leave in a folder


def _added_by_the_system(parts: list[str]) -> bool:
    """macOS's __MACOSX/ copies and ._ forks, hidden files and folders, Windows' Thumbs.db and desktop.ini."""
    return any(p == "__MACOSX" or p.startswith(".") for p in parts) or parts[-1].lower() in SYSTEM_FILES


def _by_class_folder(found: list[tuple[list[str], zipfile.ZipInfo]]) -> list[tuple[str, zipfile.ZipInfo]]:
    """(class, member) of each image: the folder it is in, after one top folder that holds them all
    (what zipping a folder `digits/` of `0/ ... 9/` gives) is stepped into; loose images are left out."""
    if len({parts[0] for parts, _ in found}) == 1 and any(len(parts) >= 3 for parts, _ in found):
        found = [(parts[1:], info) for parts, info in found]
    return [(parts[0], info) for parts, info in found if len(parts) >= 2]


def _open_zip(raw: bytes, file: str) -> zipfile.ZipFile:
    """The archive, its entries counted on the bytes first: zipfile builds an object for each one it lists."""
    most = ZIP_ENTRIES_PER_IMAGE * limits()["images"]
    if (peek.zip_entries(raw, most) or 0) > most:
        refuse("data_zip_entries", file, n=f"{most:,}")
    try:
        return zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        refuse("data_not_zip", file)


def _entry(archive, info, file: str) -> bytes:
    """One entry's bytes, refused as a bomb if it declares or unpacks to more than one upload may be."""
    try:
        data = peek.read_entry(archive, info, limits()["mb"] * 1024**2)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        refuse("data_not_image", file, member=info.filename[:60])
    if data is None:
        refuse("data_bomb", file)
    return data


class PixelBudget:
    """The pixels all images of one archive may decode to, spent from before each image is decoded."""

    def __init__(self, file: str):
        self.left, self.file = limits()["total_pixels"], file

    def spend(self, pixels: int):
        self.left -= pixels
        if self.left < 0:
            refuse("data_bomb", self.file)


def _image(archive, info, file: str, color: bool, budget: PixelBudget | None = None) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(_entry(archive, info, file))) as im:
            if im.width * im.height > limits()["pixels"]:
                refuse("data_image_huge", file, member=info.filename[:60], n=f"{limits()['pixels']:,}")
            if budget is not None:
                budget.spend(im.width * im.height)
            im = im.convert("RGB" if color else "L").resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BILINEAR)
            arr = np.asarray(im, dtype=np.float32) / 255.0
    except ConfigError:
        raise
    except Exception:   # Pillow raises many kinds for a file that is not an image (or a bomb)
        refuse("data_not_image", file, member=info.filename[:60])
    return arr.transpose(2, 0, 1) if color else arr[None]


def image_sample(raw: bytes, file: str, n: int = 16) -> tuple[list[str], list[np.ndarray], list[str]]:
    """For a preview, before anything is stored: every image's class, and about `n` grey images spread
    over the archive with their classes. Refused like `add_images` would refuse the archive."""
    members, archive = _zip_members(raw, file)
    picked = members[:: max(1, len(members) // n)][:n]
    return [c for c, _ in members], [_image(archive, info, file, color=False) for _, info in picked], \
        [c for c, _ in picked]


def add_images(raw: bytes, file: str, owner: str = "") -> Dataset:
    from PIL import Image

    _check_size(raw, file)
    members, archive = _zip_members(raw, file)
    classes = sorted({c for c, _ in members})
    _check_classes(len(classes), file)
    color = False
    for _, info in members[:20]:   # colour if the first images are
        try:
            with Image.open(io.BytesIO(_entry(archive, info, file))) as im:
                color = color or im.mode not in ("1", "L", "LA", "I", "I;16", "F")
        except Exception:
            pass
    index = {c: i for i, c in enumerate(classes)}
    budget = PixelBudget(file)
    x = np.stack([_image(archive, info, file, color, budget) for _, info in members])
    y = np.array([index[c] for c, _ in members], dtype=np.int64)
    ds = Dataset(_hash(raw), file, "images", "classification", owner, len(x), x.shape[1], classes, size=len(raw))
    return _save(ds, {"x": x, "y": y})


# --- storage --------------------------------------------------------------------------

def _hash(raw: bytes, *choices: str) -> str:
    h = hashlib.sha256(raw)
    for c in choices:
        h.update(b"\x00" + c.encode("utf-8"))
    return h.hexdigest()[:12]


def part_name(dataset_id: str, file: str) -> str:
    return f"{STORED}{dataset_id}/{file}"


def _save(ds: Dataset, arrays: dict, text: str | None = None) -> Dataset:
    found = get(ds.id)
    if found is not None:
        return found   # the same upload: stored once
    ds.created = time.time()
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        blobs.put(part_name(ds.id, "data.npz"), buffer.getvalue())
    if text is not None:
        blobs.put(part_name(ds.id, "text.txt"), text.encode("utf-8"))
    meta = json.dumps(asdict(ds), ensure_ascii=False).encode("utf-8")
    blobs.put(part_name(ds.id, META_FILE), meta)   # last: a reader sees no dataset or the whole dataset
    return get(ds.id)


def get(dataset_id: str) -> Dataset | None:
    if not isinstance(dataset_id, str) or not dataset_id.isalnum():
        return None
    raw = blobs.read(part_name(dataset_id, META_FILE))
    try:
        return None if raw is None else Dataset(**json.loads(raw.decode("utf-8")))
    except (ValueError, TypeError):
        return None


def from_task(task_name: str) -> Dataset | None:
    return get(task_name[len(PREFIX):]) if task_name.startswith(PREFIX) else None


def arrays(ds: Dataset) -> dict[str, np.ndarray]:
    with np.load(blobs.path(part_name(ds.id, "data.npz")), allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def text(ds: Dataset) -> str:
    return blobs.read(part_name(ds.id, "text.txt")).decode("utf-8")


def list_datasets() -> list[Dataset]:
    ids = [name[len(STORED):].split("/", 1)[0] for name in blobs.names(STORED) if name.endswith("/" + META_FILE)]
    found = [get(i) for i in ids]
    return sorted((d for d in found if d is not None), key=lambda d: d.created)


def delete(dataset_id: str) -> bool:
    """Remove the dataset, and those of its blobs that nothing else refers to."""
    if get(dataset_id) is None:
        return False
    blobs.forget(part_name(dataset_id, ""))
    return True
