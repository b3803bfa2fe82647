"""Hostile uploads are refused at the door, in bounded memory, in one line naming the file or the column.

A CSV's header is counted on its bytes before pandas builds a column, a ZIP's entries before zipfile lists
them, and each entry and image is capped before it is decoded. Where a limit can be lowered by its setting
the input is a few kilobytes; the million-column header is measured at full size in a child process whose
address space is capped, so code that reads it whole fails with MemoryError instead of taking the machine.
"""
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modelkit.cli import main
from modelkit.config import ConfigError
from modelkit.data import uploads

ROOT = Path(__file__).resolve().parent.parent
GROWTH_MB = 150      # what refusing may add to the child's peak memory (the file itself is ~20 MB)

# Builds the hostile file in the child, then refuses it; prints the refusal's code and how much it grew.
CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
from modelkit.data import uploads
rows = int(sys.argv[1])
header = b",".join(b"c%d" % i for i in range(1_000_000))
raw = header + (b"\\n" + b"1," * 999_999 + b"1") * rows
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    uploads.read_table(raw, "wide.csv")
    code = None
except Exception as e:
    code = getattr(e, "code", type(e).__name__)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"code": code, "grown_mb": grown}))
"""


@pytest.mark.parametrize("rows", [0, 10])
def test_a_header_of_a_million_columns_is_refused_before_a_frame_is_built(tmp_path, rows):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "MODELKIT_HOME": str(tmp_path),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(rows)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    print(f"refusing a million columns with {rows} rows grew the process by {out['grown_mb']:.0f} MB")
    assert out["code"] == "data_columns"
    assert out["grown_mb"] < GROWTH_MB


def test_the_cli_refuses_a_wide_header_with_no_rows_in_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MODELKIT_UPLOAD_COLUMNS", "100")
    path = tmp_path / "wide.csv"
    path.write_bytes(b",".join(b"c%d" % i for i in range(5_000)) + b"\n")
    assert main(["train", "--data", str(path), "--arch", "mlp"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "wide.csv" in err and "more than 100 columns" in err


def test_quoted_separators_in_the_header_are_not_counted_as_columns(monkeypatch):
    monkeypatch.setenv("MODELKIT_UPLOAD_COLUMNS", "3")
    header = '"height, in cm","width, in cm","kind"'
    raw = (header + "\n" + "\n".join(f"{i},{i % 5},{'ab'[i % 2]}" for i in range(40))).encode()
    assert uploads.read_table(raw, "quoted.csv").shape == (40, 3)


def table(cell: str, column: str = "b") -> bytes:
    """A small two-class table whose column `column` holds `cell` in its fifth row."""
    rows = ["a,b,kind"] + [f"{i},{i % 7},{'xy'[i % 2]}" for i in range(40)]
    header = rows[0].split(",")
    cells = rows[5].split(",")
    cells[header.index(column)] = cell
    rows[5] = ",".join(cells)
    return "\n".join(rows).encode()


@pytest.mark.parametrize("cell", ["inf", "-inf", "Infinity", "1e39"])
def test_a_cell_that_is_not_a_finite_number_is_refused_naming_its_column(cell):
    with pytest.raises(ConfigError) as err:
        uploads.add_table(table(cell), "cells.csv", target="kind")
    assert err.value.code == "data_not_finite" and err.value.params["column"] == "b"
    assert "cells.csv" in err.value.text("zh") and "b" in err.value.text("en")


def test_an_infinite_number_to_predict_is_refused_naming_the_target():
    rows = ["a,b,y"] + [f"{i},{i % 7},{i * 0.5}" for i in range(40)] + ["3,3,-inf"]
    with pytest.raises(ConfigError) as err:
        uploads.add_table("\n".join(rows).encode(), "line.csv", target="y", task_kind="regression")
    assert err.value.code == "data_not_finite" and err.value.params["column"] == "y"


def test_a_column_with_no_values_at_all_is_refused_naming_it():
    rows = ["a,empty,kind"] + [f"{i},,{'xy'[i % 2]}" for i in range(40)]
    with pytest.raises(ConfigError) as err:
        uploads.add_table("\n".join(rows).encode(), "gaps.csv", target="kind")
    assert err.value.code == "data_empty_column" and err.value.params["column"] == "empty"


def test_a_column_to_predict_with_no_values_is_refused_for_too_few_rows():
    rows = ["a,b,kind"] + [f"{i},{i % 7}," for i in range(40)]
    with pytest.raises(ConfigError) as err:
        uploads.add_table("\n".join(rows).encode(), "blank.csv", target="kind")
    assert err.value.code == "data_few_rows"


def png(side: int, value: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("L", (side, side), value).save(out, "PNG")
    return out.getvalue()


def zipped(entries, method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as z:
        for name, data in entries:
            z.writestr(name, data)
    return out.getvalue()


def refusal(raw: bytes) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        uploads.add_images(raw, "bomb.zip")
    assert "bomb.zip" in err.value.text("zh")
    return err.value


def test_an_entry_that_unpacks_past_the_upload_limit_is_refused_as_a_bomb(monkeypatch):
    monkeypatch.setenv("MODELKIT_UPLOAD_MB", "1")
    raw = zipped([("a/zeros.png", b"\0" * (2 * 1024**2)), ("b/1.png", png(8))])
    assert len(raw) < 1024**2
    assert refusal(raw).code == "data_bomb"


def test_an_archive_of_more_entries_than_images_allowed_is_refused_before_it_is_listed(monkeypatch):
    monkeypatch.setenv("MODELKIT_UPLOAD_IMAGES", "100")
    raw = zipped([(f"a/{i}.png", b"") for i in range(uploads.ZIP_ENTRIES_PER_IMAGE * 100 + 1)])
    err = refusal(raw)
    assert err.code == "data_zip_entries" and err.params["n"] == f"{uploads.ZIP_ENTRIES_PER_IMAGE * 100:,}"


def test_images_that_decode_to_more_pixels_than_the_budget_are_refused_as_a_bomb(monkeypatch):
    monkeypatch.setenv("MODELKIT_UPLOAD_TOTAL_PIXELS", str(3 * 64 * 64))
    raw = zipped([(f"{c}/{i}.png", png(64)) for c in "ab" for i in range(2)], zipfile.ZIP_STORED)
    assert refusal(raw).code == "data_bomb"


def test_images_within_the_budget_are_all_kept(monkeypatch):
    monkeypatch.setenv("MODELKIT_UPLOAD_TOTAL_PIXELS", str(4 * 64 * 64))
    ds = uploads.add_images(zipped([(f"{c}/{i}.png", png(64, 40 * i)) for c in "ab" for i in range(2)]), "ok.zip")
    assert (ds.rows, ds.class_names) == (4, ["a", "b"])
    assert np.isfinite(uploads.arrays(ds)["x"]).all()
