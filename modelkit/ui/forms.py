"""Config forms driven by config.describe(): one widget per field, keyed by page prefix.

Keys: `<prefix>_task` (task.name), `<prefix>_arch` (model.arch), `<prefix>_<field>`
(train section: train_lr, train_epochs), `<prefix>_task_<field>`, `<prefix>_model_<field>`.
`fill` writes a RunConfig into those keys, `read` turns them back into a config
dict; widgets never get a `value=`, Session State is their only source.
"""
from __future__ import annotations

import math

import streamlit as st

from modelkit.config import SECTIONS
from modelkit.fields import ConfigError, TaskConfig, TrainConfig, applies, describe
from modelkit.models import model_config_class
from modelkit.ui.i18n import choice_labeler, has, t

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


def shown_model_fields(arch: str, input_kind: str) -> list[str]:
    """The model settings worth a widget for `arch` on inputs of `input_kind` (the architecture itself aside).

    Each field says where it applies (modelkit.fields.option's `when`): a text model has no patches."""
    fields = section_fields("model", arch)
    context = {"input": input_kind, "arch": arch}
    return [f for f, meta in fields.items() if f != "arch" and applies(meta, context)]


def inapplicable_reason(section: str, field: str, meta: dict, prefix: str) -> str | None:
    """Why a field does nothing with its siblings' current values (momentum under Adam), or None."""
    context = {name: st.session_state.get(key(prefix, section, name)) for name in meta.get("when", {})}
    context = {name: value for name, value in context.items() if value is not None}
    if applies(meta, context):
        return None
    name, allowed = next((n, a) for n, a in meta["when"].items() if n in context and context[n] not in a)
    named = choice_labeler(name)
    return t("form.only_with", setting=label(section, name), values=", ".join(named(v) for v in allowed))


def snap_lr(lr: float) -> float:
    """The learning-rate grid value nearest to `lr` on a log scale."""
    return min(LR_GRID, key=lambda g: abs(math.log10(g) - math.log10(max(lr, 1e-12))))


def lr_options(lr: float | None) -> tuple:
    """The learning-rate slider's choices: the grid, and `lr` where it is off the grid (a re-run of a run set
    to 0.004 shows 0.004, not the nearest grid value)."""
    if isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr > 0:
        return tuple(sorted({*LR_GRID, float(lr)}))
    return LR_GRID


def _to_widget(value, meta: dict):
    if meta["type"].startswith("list"):
        return ", ".join(str(v) for v in value)
    if meta.get("choices") and value is None:
        return AUTOMATIC
    return value


def fill(config, prefix: str, only=None):
    """Put every field of `config` (or those whose paths, e.g. "train.lr", are in `only`) into its widget's
    Session State."""
    data = config.to_dict()
    state = {}
    for section in SECTIONS:
        fields = section_fields(section, config.arch)
        for field, value in data[section].items():
            if only is None or f"{section}.{field}" in only:
                state[key(prefix, section, field)] = _to_widget(value, fields[field])
    st.session_state.update(state)   # the learning rate exactly: its slider gains the value (lr_options)


LOCKED = "form_locked"   # Session State: widget keys a challenge fixes (modelkit.ui.challenge)


def is_locked(widget_key: str) -> bool:
    return widget_key in st.session_state.get(LOCKED, ())


def _parse_list(text: str, path: str) -> list:
    parts = [p for p in str(text).replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ConfigError(path, "type_list") from None


def read(prefix: str, task: str, arch: str) -> dict:
    """The config dict that the form's widgets hold now (raises ConfigError for unparsable lists)."""
    out = {section: {} for section in SECTIONS}
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
    reason = inapplicable_reason(section, field, meta, prefix)
    if reason:   # shown, so the form keeps its shape, but greyed out and saying why
        hlp = f"{reason}\n\n{hlp}"
    if is_locked(k):
        hlp = f"{t('form.locked')}\n\n{hlp}"
    common = {"key": k, "help": hlp, "disabled": reason is not None or is_locked(k)}
    tp = meta["type"]
    if meta.get("choices"):
        options = ([AUTOMATIC] if "None" in tp else []) + list(meta["choices"])
        automatic, named = t("form.automatic"), choice_labeler(field)
        return where.selectbox(lab, options, **common, format_func=lambda v: automatic if v == AUTOMATIC else named(v))
    if tp == "bool":
        return where.toggle(lab, **common)
    if tp.startswith("list"):
        return where.text_input(lab, **common)
    if tp in ("str", "str | None"):
        return where.text_area(lab, **common, placeholder=t(f"placeholder.{section}.{field}")
                               if has(f"placeholder.{section}.{field}") else None)
    is_int = tp.startswith("int")
    low, high = meta.get("low"), meta.get("high")
    if meta.get("low_open") or low is None:
        low = None
    optional = {"value": None} if "None" in tp else {}  # may be left empty
    return where.number_input(lab, **common, min_value=low, max_value=high, **optional,
                              step=1 if is_int else _float_step(meta), format=None if is_int else "%g",
                              placeholder=t("form.empty"))


def _float_step(meta: dict) -> float:
    high = meta.get("high") or 1.0
    return 0.05 if high <= 1.0 else 0.1


def error_text(err: ConfigError, arch: str | None = None) -> str:
    """A refused value in the reader's language: the engine names the rule by code (error.<code>)."""
    if has(f"error.{err.code}"):
        return t(f"error.{err.code}", **err.params)
    return t("error.generic", detail=err.message)
