"""RunConfig <-> URL query parameters, so that a link reproduces the form.

Only what differs from the task x architecture defaults travels:
?task=digits&arch=cnn&train.lr=0.01&model.channels=[8,16]  (values as JSON).
Own text is not put in a link: it is kept once by content (modelkit.data.blobs) and the
link carries its reference, task.text_ref=3f2a9c0d1e4b5a67, so every link stays short.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

from modelkit.config import SECTIONS, ConfigError, RunConfig, make_config
from modelkit.data import blobs

TEXT_REF = "task.text_ref"


def config_to_query(config: RunConfig) -> dict[str, str]:
    """The query parameters that rebuild `config` with `config_from_query`."""
    base = make_config(config.task.name, config.arch).to_dict()
    data = config.to_dict()
    query = {"task": config.task.name, "arch": config.arch}
    for section in SECTIONS:
        for field, value in data[section].items():
            if value != base[section].get(field) and (section, field) not in (("task", "name"), ("model", "arch")):
                query[f"{section}.{field}"] = json.dumps(value, ensure_ascii=False)
    if config.task.text:
        del query["task.text"]
        query[TEXT_REF] = blobs.put_text(config.task.text)
    return query


def config_from_query(params: Mapping[str, str]) -> RunConfig | None:
    """The config a URL describes, or None when it names no task; raises ConfigError for refused values."""
    task, arch = params.get("task"), params.get("arch")
    if not task or not arch:
        return None
    sets = [f"{k}={v}" for k, v in params.items() if is_config_param(k) and k not in ("task", "arch", TEXT_REF)]
    if TEXT_REF in params:
        text = blobs.get_text(params[TEXT_REF])
        if text is None:
            raise ConfigError("task.text", "text_missing")
        sets.append(f"task.text={json.dumps(text, ensure_ascii=False)}")
    return make_config(task, arch, sets=sets)


def is_config_param(name: str) -> bool:
    return name in ("task", "arch") or (name.split(".")[0] in SECTIONS and "." in name)
