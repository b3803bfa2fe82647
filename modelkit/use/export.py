"""The take-home bundle of a trained run: everything needed to use or retrain it without modelkit.

    export_run(store, run_id, "out/")     # a folder, as `python -m modelkit export RUN_ID --out DIR` writes
    bundle_zip(store, run_id, lang="zh")  # the same files in one zip, for a download button

Files: model.safetensors, config.json, metrics.json, curves.csv (the recorded points; the card says which),
model.onnx (batch size free; outputs match PyTorch's), train.py (codegen.script_source)
and README.md, a model card in the participant's language.
"""
from __future__ import annotations

import copy
import io
import json
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from modelkit.data import tasks, uploads
from modelkit.models import example_input
from modelkit.store import artifacts
from modelkit.written import literal
from modelkit.text import LANGUAGES, table
from modelkit.use import codegen, predict, script_writer

BUNDLE_FILES = ("model.safetensors", "config.json", "metrics.json", "curves.csv", "model.onnx", "train.py",
                "README.md")
DATA_FILES = ("data.npz", "data.txt", "series.json")   # an uploaded dataset travels with its run's bundle


def export_run(store, run_id: str, out_dir, lang: str = "en") -> Path:
    """Write the bundle of a finished run into `out_dir` (created if needed); returns the folder."""
    predictor = predict.load(store, run_id)          # raises NoModelError without trained weights
    run = store.get_run(run_id)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in artifacts.FILES:   # from the store's database, wherever the run was trained
        (out / name).write_bytes(store.artifact(run_id, name))
    (out / "metrics.json").write_text(json.dumps(run.metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    points = store.points(run_id).drop(columns="id")
    points.to_csv(out / "curves.csv", index=False)
    (out / "train.py").write_text(codegen.script_source(predictor.config, predictor.spec, run_id), encoding="utf-8")
    (out / "README.md").write_text(model_card(run, predictor, lang, points), encoding="utf-8")
    uploaded = uploads.from_task(predictor.config.task.name)
    if uploaded is not None:
        if uploaded.kind == "text":
            (out / "data.txt").write_text(uploads.text(uploaded), encoding="utf-8")
        else:
            np.savez(out / "data.npz", **script_writer.bundled_arrays(predictor.config.task))
        if uploaded.kind == "series":   # the columns, and the scaling that takes own units to the model's
            (out / "series.json").write_text(json.dumps(predictor.series, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    elif predictor.kind == "lm" and not predictor.config.task.text and predictor.config.task.corpus != "en":
        # a shipped corpus other than Python's own docs (the Tang poems) travels beside train.py
        (out / "data.txt").write_text(tasks.corpus_text(predictor.config.task.corpus), encoding="utf-8")
    export_onnx(predictor, out / "model.onnx")   # last: the files above do not wait on the exporter
    return out


def bundle_zip(store, run_id: str, lang: str = "en") -> bytes:
    """The bundle as the bytes of a zip file, its files in a folder named after the run."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = export_run(store, run_id, Path(tmp) / f"modelkit-{run_id}", lang)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for name in BUNDLE_FILES + DATA_FILES:
                if (folder / name).exists():
                    z.write(folder / name, f"{folder.name}/{name}")
    return buffer.getvalue()


class Standardised(torch.nn.Module):
    """A table's model that takes raw rows in their own units, scaled as training scaled them."""

    def __init__(self, model: torch.nn.Module, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.model = model
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())

    def forward(self, x):   # (B, F) raw rows
        return self.model((x - self.mean) / self.std)


class SeriesWindows(torch.nn.Module):
    """A series' model that takes windows in the series' own units, scaled and taken relative to their last
    row as training did (modelkit.data.forecast.to_model); it answers the scaled change from that row."""

    def __init__(self, model: torch.nn.Module, scale: dict):
        super().__init__()
        self.model, columns = model, scale["inputs"]
        self.register_buffer("mean", torch.tensor([scale["mean"][c] for c in columns], dtype=torch.float32))
        self.register_buffer("std", torch.tensor([scale["std"][c] for c in columns], dtype=torch.float32))
        self.flat = len(columns) == 1

    def forward(self, x):   # (B, L) or (B, L, C) in own units
        x = (x.unsqueeze(-1) if self.flat else x) - self.mean
        x = x / self.std
        x = x - x[:, -1:, :]
        return self.model(x[:, :, 0] if self.flat else x)


def export_onnx(predictor: predict.Predictor, path) -> Path:
    """The model as ONNX (torch's own exporter, which writes through the onnx package), inputs and outputs
    batch-size free; a table's model takes raw rows and a series' model windows in own units, as predict
    and the service do."""
    model = copy.deepcopy(predictor.model).eval()     # the cached model stays untouched
    example = example_input(predictor.spec, batch=2)
    if predictor.mean is not None:
        model, example = Standardised(model, predictor.mean, predictor.std).eval(), example * predictor.std + predictor.mean
    if predictor.series is not None:
        model = SeriesWindows(model, predictor.series).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(path), dynamo=False, input_names=["inputs"],
                          output_names=["outputs"], dynamic_axes={"inputs": {0: "batch"}, "outputs": {0: "batch"}})
    return Path(path)


# --- the model card ----------------------------------------------------------------

def _texts(lang: str) -> dict:
    return {**table("en"), **table(lang if lang in LANGUAGES else "en")}


def model_card(run, predictor: predict.Predictor, lang: str = "en", points=None) -> str:
    """README.md of the bundle: what the model is, how well it did, and how to use each file (with `points`,
    the run's curves.csv, what that file holds)."""
    tx = _texts(lang)
    config = predictor.config
    title = f"{tx.get('arch.' + run.arch + '.title', run.arch)} · {tx.get('task.' + run.task + '.title', run.task)}"
    when = (run.finished or run.created).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# {literal(run.name or title)}", "", tx["card.intro"].format(run=run.id), "",
             "| | |\n|---|---|",
             f"| {tx['card.task']} | {tx.get('task.' + run.task + '.title', run.task)} (`{run.task}`) |",
             f"| {tx['card.arch']} | {tx.get('arch.' + run.arch + '.title', run.arch)} (`{run.arch}`) |",
             f"| {tx['card.params']} | {run.params or 0:,} |",
             f"| {tx['card.date']} | {when} |", f"| {tx['card.owner']} | {literal(run.owner)} |",
             f"| {tx['card.inputs']} | {input_text(predictor, tx)} |",
             f"| {tx['card.outputs']} | {output_text(predictor, tx)} |", "",
             f"## {tx['card.metrics']}", "", "| | |\n|---|---|"]
    lines += [f"| {tx.get('metric.' + k, k)} (`{k}`) | {v:.4f} |" for k, v in run.metrics.items()
              if k.startswith("test_") and isinstance(v, (int, float))]
    settings = json.dumps(config.to_dict(), indent=2, ensure_ascii=False)
    lines += ["", f"## {tx['card.settings']}", "", "```json", settings, "```", "", f"## {tx['card.files']}", ""]
    steps = curves_text(points, tx) if points is not None else tx["card.curves.full"]
    lines += [f"- `{name}`: {tx['card.file.' + name.replace('.', '_')].format(steps=steps)}"
              for name in BUNDLE_FILES if name != "README.md"]
    lines += ["", f"## {tx['card.use']}", "", "```bash", script_writer.install_command(config.task.name),
              "python train.py --evaluate",
              "python train.py", f"python -m modelkit serve {run.id}", "```", "", tx["card.onnx"], "",
              "```python", onnx_snippet(predictor), "```", ""]
    return "\n".join(lines)


def curves_text(points, tx: dict) -> str:
    """What curves.csv holds of the per-step curves: every step, or (a long run's store keeps a sample, see
    worker.Recorder) its latest steps in full and one step in every `stride` before them."""
    steps = np.unique(points.loc[points["name"] == "loss", "step"].to_numpy())
    gaps = np.diff(steps)
    if not len(gaps) or gaps.max() <= 1:
        return tx["card.curves.full"]
    recent = len(steps) - 1 - int(np.nonzero(gaps > 1)[0][-1])
    return tx["card.curves.sampled"].format(recent=recent, stride=int(gaps.max()))


def input_text(predictor: predict.Predictor, tx: dict) -> str:
    spec = predictor.spec
    shape = " x ".join(map(str, spec.input_shape))
    if predictor.mean is not None:
        means = ", ".join(f"{v:.3g}" for v in predictor.mean.flatten().tolist())
        spreads = ", ".join(f"{v:.3g}" for v in predictor.std.flatten().tolist())
        return tx["card.in.table"].format(shape=shape, means=means, spreads=spreads)
    if predictor.series is not None:
        names = predictor.series["names"]
        return tx["card.in.series"].format(shape=shape, inputs=", ".join(names[i] for i in predictor.series["inputs"]),
                                           targets=", ".join(names[i] for i in predictor.series["targets"]))
    return tx[f"card.in.{spec.input_kind}"].format(shape=shape)


def output_text(predictor: predict.Predictor, tx: dict) -> str:
    spec = predictor.spec
    if spec.kind == "classification":
        return tx["card.out.classes"].format(n=spec.n_outputs, names=", ".join(literal(n) for n in spec.class_names))
    if spec.kind == "regression":
        return tx["card.out.values"].format(n=spec.n_outputs)
    return tx["card.out.chars"].format(n=spec.n_outputs)


def onnx_snippet(predictor: predict.Predictor) -> str:
    dtype = "np.int64" if predictor.spec.input_kind == "tokens" else "np.float32"
    shape = ", ".join(["1", *map(str, predictor.spec.input_shape)])
    return (f"import numpy as np\nimport onnxruntime as ort\n\n"
            f"session = ort.InferenceSession(\"model.onnx\")\n"
            f"x = np.zeros(({shape}), dtype={dtype})\n"
            f"outputs = session.run(None, {{\"inputs\": x}})[0]")
