"""Files as people upload them, built from scikit-learn's bundled data: what a file manager zips, with the
extra entries that macOS and Windows add, and a table in its own units."""
from __future__ import annotations

import io
import zipfile

import numpy as np
from PIL import Image


def digits_folder_zip(per_class: int | None = None, top: str = "digits") -> bytes:
    """A ZIP of one folder `top/` of class folders `0/ ... 9/` of sklearn's digits as PNGs, zipped on a Mac
    (`__MACOSX/` with `._` forks, `.DS_Store`) that also went through Windows (`Thumbs.db`, `desktop.ini`),
    with a README.txt beside the class folders."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(f"{top}/", b"")
        z.writestr(f"{top}/README.txt", b"Handwritten digits, one folder per digit.\n")
        z.writestr(f"{top}/.DS_Store", b"\x00\x00\x00\x01Bud1" + b"\x00" * 64)
        for c in range(10):
            z.writestr(f"{top}/{c}/", b"")
            z.writestr(f"{top}/{c}/Thumbs.db", b"\xd0\xcf\x11\xe0" + b"\x00" * 60)
            z.writestr(f"{top}/{c}/desktop.ini", b"[.ShellClassInfo]\r\n")
            for k, img in enumerate(bunch.images[bunch.target == c][:per_class]):
                png = io.BytesIO()
                Image.fromarray((img * 16).clip(0, 255).astype(np.uint8)).save(png, "PNG")
                z.writestr(f"{top}/{c}/{k}.png", png.getvalue())
                z.writestr(f"__MACOSX/{top}/{c}/._{k}.png", b"\x00\x05\x16\x07" + b"\x00" * 40)
    return out.getvalue()


def plants_rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, kinds): height in mm, leaf mass in mg, leaf ratio: three scales far apart, as measured; the
    kind ("tall" / "short") follows their standardised sum, so a model that skips the scaling is lost."""
    rng = np.random.default_rng(seed)
    height, mass, ratio = rng.normal(1500, 200, n), rng.normal(50_000, 8_000, n), rng.normal(0.02, 0.005, n)
    score = (height - 1500) / 200 + (mass - 50_000) / 8_000 - (ratio - 0.02) / 0.005
    return np.stack([height, mass, ratio], 1), np.where(score > 0, "tall", "short")


def plants_measured_csv(n: int = 400, seed: int = 0) -> bytes:
    rows, kinds = plants_rows(n, seed)
    lines = ["height_mm,leaf_mass_mg,leaf_ratio,kind"]
    lines += [f"{h:.1f},{m:.0f},{r:.5f},{k}" for (h, m, r), k in zip(rows, kinds)]
    return "\n".join(lines).encode()


def plants_with_soil_csv(n: int = 400, seed: int = 0) -> bytes:
    """The measured plants with a text column between the numbers: the soil each grew in, which moves the
    kind as much as the height does (so a model has to read it)."""
    rows, _ = plants_rows(n, seed)
    soils = np.random.default_rng(seed + 1).choice(["clay", "loam", "sand"], n)
    score = (rows[:, 0] - 1500) / 200 + (rows[:, 1] - 50_000) / 8_000 + np.select(
        [soils == "clay", soils == "sand"], [-1.5, 1.5], 0.0)
    lines = ["height_mm,soil,leaf_mass_mg,kind"]
    lines += [f"{h:.1f},{s},{m:.0f},{'tall' if v > 0 else 'short'}" for (h, m, _), s, v in zip(rows, soils, score)]
    return "\n".join(lines).encode()


def line_rows(n: int, seed: int) -> np.ndarray:
    """(n, 3) rows: a temperature in kelvin, a pressure in pascal, a count; their number follows them."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.normal(290, 10, n), rng.normal(101_000, 2_000, n), rng.integers(0, 50, n)], 1)


def line_measured_csv(n: int = 300, seed: int = 0) -> bytes:
    rows = line_rows(n, seed)
    y = (rows[:, 0] - 290) / 10 - 2 * (rows[:, 1] - 101_000) / 2_000 + rows[:, 2] / 25
    lines = ["temperature_k;pressure_pa;count;yield"] + [f"{a:.2f};{b:.0f};{c:.0f};{v:.4f}"
                                                      for (a, b, c), v in zip(rows, y)]
    return "\n".join(lines).encode()


def story_text() -> bytes:
    """A UTF-8 text file of a few thousand characters, as someone uploads their own writing."""
    sentences = ["the fox runs over the hill at dawn.", "a small bird sings in the old tree.",
                 "rain falls on the quiet town all night.", "the river carries leaves to the sea."]
    return (" ".join(sentences[i % 4] for i in range(120)) + "\n").encode()
