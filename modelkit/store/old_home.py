"""An older MODELKIT_HOME's files, moved into the store's blobs the first time a Store opens that home.

Before schema 6 a home held, beside its database:

    artifacts/<run id>/model.safetensors, config.json     a run's weights and config
    datasets/<id>/meta.json, data.npz, text.txt           an uploaded dataset
    blobs/<ref>.txt                                       a settings link's long text

Each file is stored under the name its reader now asks for and then removed (its folder with it when
empty), so a move cut short goes on at the next start; two processes moving the same home at once store
the same bytes once. A home with none of these folders costs three look-ups.
"""
from __future__ import annotations

import logging
from pathlib import Path

from modelkit.data import blobs, uploads
from modelkit.fields import ConfigError
from modelkit.store.artifacts import CONFIG_FILE, WEIGHTS_FILE, artifact_name

log = logging.getLogger(__name__)
RUN_FILES = (CONFIG_FILE, WEIGHTS_FILE)           # weights last: a run with weights has both
DATASET_FILES = ("data.npz", "text.txt", uploads.META_FILE)            # meta last: a dataset shows when whole


def move_old_files(shelf: blobs.Shelf, home: Path) -> int:
    """Move what an older home keeps in files into `shelf`; how many files moved."""
    moved = 0
    for folder in _folders(home / "artifacts"):
        moved += _move(shelf, [(folder / f, artifact_name(folder.name, f)) for f in RUN_FILES])
    for folder in _folders(home / "datasets"):
        moved += _move(shelf, [(folder / f, uploads.part_name(folder.name, f)) for f in DATASET_FILES])
    texts = home / "blobs"
    if texts.is_dir():
        moved += _move(shelf, [(p, blobs.text_name(p.stem)) for p in sorted(texts.glob("*.txt"))
                               if blobs.REF.match(p.stem)])
        _remove_if_empty(texts)
    for parent in (home / "artifacts", home / "datasets"):
        _remove_if_empty(parent)
    if moved:
        log.warning("moved %d files of the older home %s into the run database", moved, home)
    return moved


def _folders(parent: Path) -> list[Path]:
    """The folders of an older layout (a dataset's half-written `.<id>.<pid>.tmp` is not one)."""
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))


def _move(shelf: blobs.Shelf, files: list[tuple[Path, str]]) -> int:
    moved = 0
    for path, name in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError:   # not in this layout, or another process moved it a moment ago
            continue
        try:
            shelf.put(name, data)
        except ConfigError as refused:   # more than this database holds: the file stays where it is
            log.warning("%s stays in the old home: %s", path, refused)
            continue
        path.unlink(missing_ok=True)
        moved += 1
    if files:
        _remove_if_empty(files[0][0].parent)
    return moved


def _remove_if_empty(folder: Path):
    try:
        folder.rmdir()
    except OSError:
        pass   # something else is in it (kept as it is), or it is gone already
