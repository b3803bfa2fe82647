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
