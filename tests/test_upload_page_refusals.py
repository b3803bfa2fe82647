"""The upload view under hostile files: a refusal is shown in the reader's language and remembered by the file's
identity, so an unrelated change on the page does not parse the refused file again."""
import pytest
from streamlit.testing.v1 import AppTest

from modelkit.data import uploads


@pytest.fixture
def parses(monkeypatch):
    """How many times the page has asked for a CSV to be parsed (the real parser still does the work)."""
    calls = []
    real = uploads.read_table

    def counted(raw, file, *args, **kwargs):
        calls.append(file)
        return real(raw, file, *args, **kwargs)

    monkeypatch.setattr(uploads, "read_table", counted)
    return calls


def page_with(raw: bytes, name: str) -> AppTest:
    at = AppTest.from_file("../app_pages/train.py", default_timeout=120)
    at.session_state["lang"] = "zh"
    at.session_state["participant"] = "Ada"
    at.run()
    at.file_uploader(key="train_upload").set_value((name, raw, "text/csv")).run()
    return at


def refusals(at: AppTest) -> list[str]:
    return [e.value for e in at.error if e.value]


def test_a_refused_csv_is_not_parsed_again_when_something_else_changes(app_resources, monkeypatch, parses):
    monkeypatch.setenv("MODELKIT_UPLOAD_COLUMNS", "100")
    at = page_with(b",".join(b"c%d" % i for i in range(5_000)) + b"\n", "wide.csv")
    assert not at.exception and any("wide.csv" in e and "100" in e for e in refusals(at))
    at.number_input(key="train_epochs").set_value(3).run()
    at.number_input(key="train_epochs").set_value(4).run()
    assert not at.exception and any("wide.csv" in e for e in refusals(at))
    assert parses == ["wide.csv"]


def test_another_file_in_the_same_uploader_is_parsed_afresh(app_resources, parses):
    at = page_with(b"a,b\n1,2\n", "few.csv")
    assert any("few.csv" in e for e in refusals(at))
    rows = ["a,b,kind"] + [f"{i},{i % 3},{'xy'[i % 2]}" for i in range(30)]
    at.file_uploader(key="train_upload").set_value(("good.csv", "\n".join(rows).encode(), "text/csv")).run()
    assert not at.exception and not refusals(at)
    assert parses[-1] == "good.csv"


def test_an_image_archive_is_decoded_for_its_preview_once_not_on_every_rerun(app_resources, monkeypatch):
    import io
    import zipfile

    from PIL import Image

    decoded = []
    real = uploads._image

    def counted(archive, info, *args, **kwargs):
        decoded.append(info.filename)
        return real(archive, info, *args, **kwargs)

    monkeypatch.setattr(uploads, "_image", counted)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for c in "ab":
            for i in range(4):
                png = io.BytesIO()
                Image.new("L", (12, 12), 30 * i + (c == "b") * 100).save(png, "PNG")
                z.writestr(f"{c}/{i}.png", png.getvalue())
    at = AppTest.from_file("../app_pages/train.py", default_timeout=120)
    at.session_state["participant"] = "Ada"
    at.run()
    at.file_uploader(key="train_upload").set_value(("shapes.zip", out.getvalue(), "application/zip")).run()
    assert not at.exception and not refusals(at)
    assert any("8" in m.value for m in at.markdown)   # "8 images in 2 classes"
    first = len(decoded)
    at.number_input(key="train_epochs").set_value(3).run()
    assert not at.exception and first > 0 and len(decoded) == first


def memory_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024


def test_a_header_of_a_million_columns_is_refused_without_growing_the_server(app_resources):
    raw = b",".join(b"c%d" % i for i in range(1_000_000))   # 8 MB, under the upload limit
    at = AppTest.from_file("../app_pages/train.py", default_timeout=120)
    at.session_state["participant"] = "Ada"
    at.run()
    with open("/proc/self/clear_refs", "w") as f:   # start the peak (VmHWM) afresh from here
        f.write("5")
    before = memory_mb("VmRSS")
    at.file_uploader(key="train_upload").set_value(("wide.csv", raw, "text/csv")).run()
    grown = memory_mb("VmHWM") - before
    print(f"the page refused a million columns; its peak memory grew by {grown:.0f} MB")
    assert not at.exception and any("wide.csv" in e and "1,000" in e for e in refusals(at))
    assert grown < 150
