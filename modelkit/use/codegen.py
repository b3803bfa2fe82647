"""A run as plain PyTorch source: the model class with its configured sizes, and a standalone script.

    model_source(config)    # the nn.Module classes, e.g. for a "show the code" view
    script_source(config)   # train.py: data, model, loss, optimizer, loop; --evaluate reads model.safetensors

The generated model has the same layer names as modelkit's own, so the weights a
run saved load into it unchanged. The script needs only torch, numpy and the
package the data comes from (scikit-learn, mnist1d, or Python itself for text).
"""
from __future__ import annotations

import textwrap

from modelkit import models
from modelkit.config import RunConfig
from modelkit.data import tasks
from modelkit.use import script_writer


def _spec(config: RunConfig, spec):
    if spec is not None:
        return spec
    return tasks.load(config.task).spec


def model_source(config: RunConfig, spec=None) -> str:
    """The model's classes as PyTorch source, sizes filled in; the last class is the one to build."""
    spec = _spec(config, spec)
    built = models.build(config.model, spec)   # for sizes computed at build time (flattened width, tokens)
    source = models.family(config.arch).source(config.model, spec, built)
    return textwrap.dedent(source).strip() + "\n"


def model_class_name(config: RunConfig, spec=None) -> str:
    """The class train.py builds: the generated source names its classes as modelkit's own."""
    return type(models.build_on_meta(config.model, _spec(config, spec))).__name__


def script_source(config: RunConfig, spec=None, run_id: str = "") -> str:
    """A standalone train.py for this run: `python train.py` trains, `--evaluate` tests model.safetensors."""
    spec = _spec(config, spec)
    settings = {**_task_settings(config), **_train_settings(config)}
    header = script_writer.SCRIPT_HEADER.format(arch=config.arch, task=config.task.name,
                                        run=f" (run {run_id})" if run_id else "",
                                        data_package=tasks.task_info(config.task.name).package)
    sections = [
        header,
        _section("settings", "\n".join(f"{k.upper()} = {v!r}" for k, v in settings.items()), blank=""),
        _section("data", script_writer.data_source(config.task)),
        _section("model", model_source(config, spec)),
        _section("loss, optimizer, loop", script_writer.train_source(config, spec)),
        _section("weights as safetensors, read and written with torch alone", script_writer.SAFETENSORS),
        script_writer.MAIN.format(model=model_class_name(config, spec)).strip(),
    ]
    return "\n\n\n".join(sections) + "\n"


def _section(title: str, body: str, blank: str = "\n") -> str:
    return f"# --- {title} " + "-" * (72 - len(title)) + "\n" + blank + textwrap.dedent(body).strip()


def _train_settings(config: RunConfig) -> dict:
    t = config.train
    out = {"seed": t.seed, "optimizer": t.optimizer, "lr": t.lr}
    if t.optimizer == "sgd":
        out.update(momentum=t.momentum, nesterov=t.nesterov)
    out.update(weight_decay=t.weight_decay, batch_size=t.batch_size, epochs=t.epochs, time_budget=t.time_budget,
               schedule=t.schedule)
    if t.schedule == "warmup_cosine":
        out["warmup_fraction"] = t.warmup_fraction
    if t.schedule == "step":
        out.update(step_every=t.step_every, step_gamma=t.step_gamma)
    out["grad_clip"] = t.grad_clip
    return out


def _task_settings(config: RunConfig) -> dict:
    task = config.task
    keep = {"data_seed": task.seed, "val_fraction": task.val_fraction, "test_fraction": task.test_fraction}
    if script_writer.holds_back(task):   # a hidden test's rows, left out of every split (script_writer.HOLD_BACK)
        keep.update(holdout=task.holdout, holdout_seed=tasks.HOLDOUT_SEED)
    if task.name in ("moons", "circles", "spiral", "xor", "blobs", "sine"):
        keep.update(n_samples=task.n_samples, noise=task.noise)
    info = tasks.task_info(task.name)
    if "seq_len" in info.params or info.input_kind == "tokens":
        keep["seq_len"] = task.seq_len
    if "horizon" in info.params:
        keep["horizon"] = task.horizon
    return keep
