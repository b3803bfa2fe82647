"""modelkit.settings: every environment variable read in one place, by one rule, refused with a code."""
import re
from pathlib import Path

import pytest

from modelkit import settings
from modelkit.data import blobs
from modelkit.fields import ConfigError
from modelkit.models import memory
from modelkit.store import Store
from modelkit.text import has

ROOT = Path(__file__).resolve().parent.parent


def test_no_module_but_settings_reads_the_environment():
    readers = []
    for path in (ROOT / "modelkit").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name != "settings.py" and re.search(r"os\.environ\.get|os\.getenv|os\.environ\[[^]]+\](?!\s*=)", text):
            readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_the_home_is_the_same_folder_for_the_store_and_the_cache_of_its_blobs(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELKIT_HOME", str(tmp_path / "room"))
    home = (tmp_path / "room").resolve()
    store = Store()
    assert store.home == home and blobs.shelf().cache == home / "cache" / "blobs" == store.blobs.cache


def test_without_a_home_the_working_folder_holds_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MODELKIT_HOME")
    monkeypatch.chdir(tmp_path)
    assert settings.home() == (tmp_path / settings.DEFAULT_HOME).resolve()


@pytest.mark.parametrize("name", ["MODELKIT_WORKERS", "MODELKIT_RUN_MEMORY_MB", "MODELKIT_LIMIT_QUEUED",
                                  "MODELKIT_UPLOAD_ROWS"])
@pytest.mark.parametrize("text, code", [("four", "type_number"), ("nan", "not_finite"), ("-2", "above")])
def test_a_bad_number_is_refused_naming_the_variable_in_words_of_both_languages(monkeypatch, name, text, code):
    monkeypatch.setenv(name, text)
    readers = {"MODELKIT_WORKERS": settings.workers, "MODELKIT_RUN_MEMORY_MB": settings.run_memory_mb,
               "MODELKIT_LIMIT_QUEUED": lambda: settings.limit("queued"),
               "MODELKIT_UPLOAD_ROWS": lambda: settings.upload_limit("ROWS", 10)}
    with pytest.raises(ConfigError) as refused:
        readers[name]()
    assert (refused.value.path, refused.value.code) == (name, code)
    assert has(f"error.{code}", "en") and has(f"error.{code}", "zh")


def test_an_unknown_executor_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("MODELKIT_EXECUTOR", "kubernetes")
    with pytest.raises(ConfigError) as refused:
        settings.executor()
    assert refused.value.code == "choice" and "local" in refused.value.params["choices"]


def test_the_memory_share_divides_by_the_workers_the_pool_starts(monkeypatch):
    monkeypatch.delenv("MODELKIT_WORKERS", raising=False)
    monkeypatch.delenv("MODELKIT_RUN_MEMORY_MB", raising=False)
    monkeypatch.setattr(memory, "physical_memory", lambda: 1024**3)   # small enough that the cap stays out
    share = memory.run_memory_limit()
    monkeypatch.setenv("MODELKIT_WORKERS", str(settings.workers()))
    assert memory.run_memory_limit() == share
    monkeypatch.setenv("MODELKIT_WORKERS", str(4 * settings.workers()))
    assert memory.run_memory_limit() < share


def test_the_pool_starts_the_workers_settings_names(monkeypatch):
    from modelkit.execution.runner import LocalExecutor

    monkeypatch.setenv("MODELKIT_WORKERS", "3")
    executor = LocalExecutor(Store())
    try:
        assert executor.size == settings.workers() == 3
    finally:
        executor.shutdown()

