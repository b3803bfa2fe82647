"""Both languages are complete: same keys, same {fields}, and every key the code asks for exists."""
import json
import re
import string
from pathlib import Path

import pytest

from modelkit import models
from modelkit.config import TaskConfig, TrainConfig, describe
from modelkit.data.tasks import TASKS
from modelkit.store import STATUSES
from modelkit.ui.forms import help_key
from modelkit.ui.presets import PRESETS

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "zh")


def table(lang):
    return json.loads((ROOT / "assets" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def fields(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def required_keys():
    keys = set()
    for name in TASKS:
        keys |= {f"task.{name}.title", f"task.{name}.desc"}
    for arch in models.ARCHS:
        keys |= {f"arch.{arch}.title", f"arch.{arch}.desc"}
    for section, cls in (("task", TaskConfig), ("train", TrainConfig)):
        for field in describe(cls):
            keys |= {f"field.{section}.{field}", help_key(section, field, describe(cls))}
    for arch in models.ARCHS:
        described = describe(models.model_config_class(arch))
        for field in described:
            keys |= {f"field.model.{field}", help_key("model", field, described)}
    for field in ("optimizer", "schedule", "loss", "device"):
        keys |= {f"choice.{field}.{c}" for c in describe(TrainConfig)[field]["choices"]}
    for p in PRESETS:
        keys |= {f"preset.{p.id}.title", f"preset.{p.id}.desc"}
    keys |= {f"status.{s}" for s in STATUSES}
    keys |= {f"diagnosis.{c}.{part}" for c in ("diverged", "overfitting", "stalled") for part in ("title", "advice")}
    return keys


def literal_keys():
    """Keys written out in the UI code: t("...") calls with a plain string, in either quotes (inside an
    f-string a call is written t('...'): the Compare page's headings once asked for keys that never were)."""
    found = set()
    for path in [ROOT / "app.py", *ROOT.glob("app_pages/*.py"), *ROOT.glob("modelkit/ui/*.py")]:
        found |= set(re.findall(r"\bt\(\s*[\"']([a-z_.0-9]+)[\"']\s*[,)]", path.read_text(encoding="utf-8")))
    return found


def test_languages_have_the_same_keys():
    en, zh = table("en"), table("zh")
    assert sorted(set(en) - set(zh)) == [], "missing in zh"
    assert sorted(set(zh) - set(en)) == [], "missing in en"


@pytest.mark.parametrize("lang", LANGS)
def test_no_text_is_empty(lang):
    assert [k for k, v in table(lang).items() if not v.strip()] == []


def test_format_fields_match_between_languages():
    en, zh = table("en"), table("zh")
    assert {k: fields(en[k]) for k in en if fields(en[k]) != fields(zh[k])} == {}


@pytest.mark.parametrize("lang", LANGS)
def test_every_task_arch_field_choice_preset_and_status_is_translated(lang):
    assert sorted(required_keys() - set(table(lang))) == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_named_in_the_ui_code_exists(lang):
    assert sorted(literal_keys() - set(table(lang))) == []


def test_chinese_table_is_in_chinese():
    zh = table("zh")
    han = [k for k, v in zh.items() if re.search(r"[\u4e00-\u9fff]", v)]
    assert len(han) > 0.8 * len(zh)


def refusal_codes():
    """Every code a ConfigError is raised with in the engine and the pages."""
    from modelkit.data.tasks import KINDS

    codes = {f"loss_{kind}" for kind in KINDS}
    for path in [*ROOT.glob("modelkit/**/*.py"), *ROOT.glob("app_pages/*.py")]:
        codes |= set(re.findall(r"ConfigError\([^()]*?,\s*\"([a-z_]+)\"", path.read_text(encoding="utf-8")))
    return codes


@pytest.mark.parametrize("lang", LANGS)
def test_every_refusal_code_has_its_words(lang):
    codes = refusal_codes()
    assert len(codes) > 30
    assert sorted(f"error.{c}" for c in codes if f"error.{c}" not in table(lang)) == []
