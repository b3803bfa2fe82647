"""Config forms driven by config.describe(): one widget per field, keyed by page prefix.

Keys: `<prefix>_task` (task.name), `<prefix>_arch` (model.arch), `<prefix>_<field>`
(train section: train_lr, train_epochs), `<prefix>_task_<field>`, `<prefix>_model_<field>`.
`fill` writes a RunConfig into those keys, `read` turns them back into a config
dict; widgets never get a `value=`, Session State is their only source.
"""
from __future__ import annotations

import math
import re

import streamlit as st

from modelkit.config import ConfigError, TaskConfig, TrainConfig, describe
from modelkit.models import model_config_class
from modelkit.ui.i18n import bound, choice_labeler, has, t

# An optional choice left to the model ("cell: automatic") is this text in the form, not None, so the
# language switch can redraw its label (see i18n.redraw_choice_labels); `read` turns it back into None.
AUTOMATIC = "automatic"
LR_GRID = tuple(round(m * 10.0 ** e, 10) for e in range(-5, 1) for m in (1, 2, 3, 5)) + (1.0, 2.0, 3.0, 5.0, 10.0)


def key(prefix: str, section: str, field: str) -> str:
    if (section, field) == ("task", "name"):
        return f"{prefix}_task"
    if (section, field) == ("model", "arch"):
        return f"{prefix}_arch"
    return f"{prefix}_{field}" if section == "train" else f"{prefix}_{section}_{field}"


def section_fields(section: str, arch: str | None = None) -> dict[str, dict]:
    cls = {"task": TaskConfig, "train": TrainConfig}.get(section) or model_config_class(arch)
    return describe(cls)


# Model settings that mean something for some kinds of input only (as each one's help says); the form
# hides them elsewhere. Keyed by family: lstm and gru share the rnn's settings.
ONLY_FOR_INPUTS = {
    ("rnn", "patch"): ("sequence",),
    ("rnn", "embed_dim"): ("tokens",),
    ("rnn", "bidirectional"): ("sequence", "image"),
    ("rnn", "pooling"): ("sequence", "image"),
    ("transformer", "patch"): ("sequence", "image"),
    ("transformer", "stride"): ("sequence", "image"),
    ("transformer", "pooling"): ("sequence", "image"),
}


def shown_model_fields(arch: str, input_kind: str) -> list[str]:
    """The model settings worth a widget for `arch` on inputs of `input_kind` (the architecture itself aside)."""
    fields = section_fields("model", arch)
    family = fields["arch"]["default"]
    return [f for f in fields if f != "arch" and input_kind in ONLY_FOR_INPUTS.get((family, f), (input_kind,))
            and not (f == "cell" and arch != "rnn")]  # lstm and gru always use their own cell


def snap_lr(lr: float) -> float:
    """The learning-rate grid value nearest to `lr` on a log scale."""
    return min(LR_GRID, key=lambda g: abs(math.log10(g) - math.log10(max(lr, 1e-12))))


def _to_widget(value, meta: dict):
    if meta["type"].startswith("list"):
        return ", ".join(str(v) for v in value)
    if meta.get("choices") and value is None:
        return AUTOMATIC
    return value


def fill(config, prefix: str):
    """Put every field of `config` into its widget's Session State."""
    data = config.to_dict()
    state = {}
    for section in ("task", "model", "train"):
        fields = section_fields(section, config.arch)
        for field, value in data[section].items():
            state[key(prefix, section, field)] = _to_widget(value, fields[field])
    state[key(prefix, "train", "lr")] = snap_lr(config.train.lr)
    st.session_state.update(state)


def _parse_list(text: str, path: str) -> list:
    parts = [p for p in str(text).replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ConfigError(path, "expected a list of whole numbers") from None


def read(prefix: str, task: str, arch: str) -> dict:
    """The config dict that the form's widgets hold now (raises ConfigError for unparsable lists)."""
    out = {"task": {}, "model": {}, "train": {}}
    for section in out:
        for field, meta in section_fields(section, arch).items():
            k = key(prefix, section, field)
            if k not in st.session_state:
                continue
            value = st.session_state[k]
            if meta["type"].startswith("list"):
                value = _parse_list(value, f"{section}.{field}")
            elif meta.get("choices") and value == AUTOMATIC and "None" in meta["type"]:
                value = None
            out[section][field] = value
    out["task"]["name"], out["model"]["arch"] = task, arch
    return out


def label(section: str, field: str) -> str:
    return t(f"field.{section}.{field}")


def help_key(section: str, field: str, fields: dict) -> str:
    """help.train.lr; model fields by family (a cnn's pooling is not an rnn's): help.model.cnn.pooling."""
    if section == "model" and field != "arch":
        return f"help.model.{fields['arch']['default']}.{field}"
    return f"help.{section}.{field}"


def widget(section: str, field: str, fields: dict, prefix: str, *, where=st):
    """One widget for config field `field` (of describe() output `fields`), chosen by its type and allowed values."""
    meta = fields[field]
    k, lab, hlp = key(prefix, section, field), label(section, field), t(help_key(section, field, fields))
    tp = meta["type"]
    if meta.get("choices"):
        options = ([AUTOMATIC] if "None" in tp else []) + list(meta["choices"])
        automatic, named = t("form.automatic"), choice_labeler(field)
        return where.selectbox(lab, options, key=k, help=hlp,
                               format_func=lambda v: automatic if v == AUTOMATIC else named(v))
    if tp == "bool":
        return where.toggle(lab, key=k, help=hlp)
    if tp.startswith("list"):
        return where.text_input(lab, key=k, help=hlp)
    if tp in ("str", "str | None"):
        return where.text_area(lab, key=k, help=hlp, placeholder=t(f"placeholder.{section}.{field}")
                               if has(f"placeholder.{section}.{field}") else None)
    is_int = tp.startswith("int")
    low, high = meta.get("low"), meta.get("high")
    if meta.get("low_open") or low is None:
        low = None
    optional = {"value": None} if "None" in tp else {}  # may be left empty
    return where.number_input(lab, key=k, help=hlp, min_value=low, max_value=high, **optional,
                              step=1 if is_int else _float_step(meta), format=None if is_int else "%g",
                              placeholder=t("form.empty"))


def _float_step(meta: dict) -> float:
    high = meta.get("high") or 1.0
    return 0.05 if high <= 1.0 else 0.1


# The models' and tasks' own rules between fields, as the engine words them -> the reader's language.
RULE_REFUSALS = (
    (r"(?P<heads>\d+) heads do not divide d_model (?P<width>\d+)", "error.heads"),
    (r"a stride of \d+ would skip values between patches of (?P<patch>\d+)", "error.stride"),
    (r"a patch of (?P<patch>\d+) is larger than the input \((?P<size>\d+)\)", "error.patch"),
    (r"always uses \w+ cells", "error.cell"),
    (r"give 1 to (?P<n>\d+) blocks", "error.blocks"),
    (r"at most (?P<n>\d+) hidden layers", "error.hidden_layers"),
    (r"cannot read backwards", "error.bidirectional"),
    (r"the text is too short: give at least (?P<n>\d+) characters", "error.text_short"),
)


def error_text(err: ConfigError, arch: str | None = None) -> str:
    """A refused value in the reader's language (the engine's English detail as a last resort)."""
    msg = err.message
    section, _, field = err.path.partition(".")
    meta = {}
    if section in ("task", "train", "model") and field:
        try:
            meta = section_fields(section, arch).get(field, {})
        except ConfigError:
            meta = {}
    if "epochs or a time budget" in msg:
        return t("error.budget")
    if msg.startswith("expected a whole number") or msg.startswith("expected a list"):
        return t("error.whole_number")
    if msg.startswith("expected a number"):
        return t("error.number")
    if msg.startswith(("must be", "is not allowed")) or " is not allowed" in msg:
        low, high = meta.get("low"), meta.get("high")
        if low is not None and high is not None:
            return t("error.range", low=f"{low:g}", high=f"{high:g}")
        if low is not None:
            return t("error.above" if meta.get("low_open") else "error.at_least", low=f"{low:g}")
        if high is not None:
            return t("error.at_most", high=f"{high:g}")
    if "does not fit" in msg:
        return t("error.arch_fit")
    for pattern, text_key in RULE_REFUSALS:
        found = re.search(pattern, msg)
        if found:
            return t(text_key, **found.groupdict())
    return t("error.generic", detail=msg)
