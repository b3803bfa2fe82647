import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own run store, so tests never see each other's runs."""
    monkeypatch.setenv("MODELKIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MODELKIT_DB_URL", raising=False)
    yield
