"""The package's shape: each stage folder imports only the stages below it, read from the source (lazy
imports inside functions count too); the root holds a few modules; every test file has its tier."""
import ast
from pathlib import Path

import pytest
from tiers import FILE_TIER

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "modelkit"
SPINE = "(root)"   # fields, config, text, messages, settings, written, cli, bench

# stage -> the modelkit stages it may import (besides itself); the flow of a run reads bottom-up
MAY_IMPORT = {
    "data": {SPINE},
    "models": {SPINE, "data"},
    "training": {SPINE, "data", "models"},
    "inside": {SPINE, "data", "models", "training"},
    "plots": {SPINE},                                 # data in, Plotly figure out (words: the spine's translations)
    "compare": {SPINE, "data", "models", "plots"},
    "store": {SPINE, "data", "models"},               # the one model loader builds a model
    "use": {SPINE, "data", "models", "store"},
    "room": {SPINE, "compare", "data", "models", "store"},
    "execution": {SPINE, "data", "models", "room", "store", "training"},
}
# third-party packages that only some stages may import
ONLY_IN = {"streamlit": {"ui"}, "ray": {"execution"}}
NEVER_IN = {"plots": {"torch"}}
SPINE_MODULES_WITHOUT_STAGES = ("fields", "text", "messages", "settings", "written")


def imported(path: Path) -> set[str]:
    """Every module name `path` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def stages_imported(path: Path) -> set[str]:
    """The modelkit stages (folder names, or SPINE for a root module) that `path` imports."""
    out = set()
    for name in imported(path):
        parts = name.split(".")
        if parts[0] == "modelkit" and len(parts) > 1:
            out.add(parts[1] if (PACKAGE / parts[1]).is_dir() else SPINE)
    return out


def stage_files(stage: str):
    return sorted((PACKAGE / stage).rglob("*.py"))


@pytest.mark.parametrize("stage", sorted(MAY_IMPORT))
def test_a_stage_imports_only_the_stages_below_it(stage):
    reaches = {str(p.relative_to(ROOT)): sorted(stages_imported(p) - MAY_IMPORT[stage] - {stage})
               for p in stage_files(stage)}
    assert {p: s for p, s in reaches.items() if s} == {}


@pytest.mark.parametrize("package", sorted(ONLY_IN))
def test_a_third_party_package_is_imported_only_where_it_belongs(package):
    files = [p for p in PACKAGE.rglob("*.py") if any(n.split(".")[0] == package for n in imported(p))]
    outside = [str(p.relative_to(ROOT)) for p in files if p.relative_to(PACKAGE).parts[0] not in ONLY_IN[package]]
    assert outside == []


@pytest.mark.parametrize("stage", sorted(NEVER_IN))
def test_a_stage_never_imports_what_it_must_not_need(stage):
    found = {str(p.relative_to(ROOT)): sorted(n for n in imported(p) if n.split(".")[0] in NEVER_IN[stage])
             for p in stage_files(stage)}
    assert {p: n for p, n in found.items() if n} == {}


@pytest.mark.parametrize("module", SPINE_MODULES_WITHOUT_STAGES)
def test_the_spine_leans_on_no_stage(module):
    assert stages_imported(PACKAGE / f"{module}.py") - {SPINE} == set()


def test_nothing_in_the_engine_imports_the_ui():
    users = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
             if p.relative_to(PACKAGE).parts[0] != "ui" and "ui" in stages_imported(p)]
    assert users == []


def test_the_root_holds_at_most_ten_modules():
    modules = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(modules) <= 10, modules


def test_every_stage_folder_has_its_rule():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders - set(MAY_IMPORT) == {"ui"}   # the ui may import every stage


def test_every_test_file_has_a_tier():
    files = {p.stem for p in (ROOT / "tests").glob("test_*.py")}
    assert sorted(files - set(FILE_TIER)) == []
