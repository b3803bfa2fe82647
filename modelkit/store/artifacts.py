"""A run's artifacts, kept as blobs in the database: its weights (safetensors) and config (JSON), never
pickle, and the one loader of a trained model that Try it, serving, export and Look inside share.

    run/<run id>/config.json          written first
    run/<run id>/model.safetensors    written last: a run with weights has both

Any machine that reaches the database reads them; each keeps a cache under its own MODELKIT_HOME."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

WEIGHTS_FILE, CONFIG_FILE = "model.safetensors", "config.json"
FILES = (WEIGHTS_FILE, CONFIG_FILE)
PREFIX = "run/"


class NoModelError(LookupError):
    """The run has no trained weights to use (not finished, failed, diverged, or deleted)."""


def artifact_name(run_id: str, file: str) -> str:
    return f"{PREFIX}{run_id}/{file}"


class ArtifactRecords:
    """The part of `Store` that keeps trained models (needs `self.blobs`, the store's blob shelf)."""

    def save_artifacts(self, run_id: str, model, config):
        """Trained weights as safetensors and the config as JSON (never pickle). A ConfigError
        (blob_too_big) when the weights are more than the database holds in one value."""
        from safetensors.torch import save_model

        with tempfile.TemporaryDirectory() as folder:   # save_model writes a file; its bytes go to the store
            weights = Path(folder) / WEIGHTS_FILE
            save_model(model, str(weights), metadata={"run_id": run_id, "arch": config.arch}, force_contiguous=True)
            raw = weights.read_bytes()
        text = json.dumps(config.to_dict(), indent=2, ensure_ascii=False) + "\n"
        self.blobs.put(artifact_name(run_id, CONFIG_FILE), text.encode("utf-8"))
        self.blobs.put(artifact_name(run_id, WEIGHTS_FILE), raw)

    def has_weights(self, run_id: str) -> bool:
        return self.blobs.digest(artifact_name(run_id, WEIGHTS_FILE)) is not None

    def artifact(self, run_id: str, file: str) -> bytes:
        """One of the run's files (FILES); NoModelError when it has none."""
        data = self.blobs.read(artifact_name(run_id, file))
        if data is None:
            raise NoModelError(f"run {run_id} has no trained weights (it has not finished, or it failed)")
        return data

    def weights_file(self, run_id: str) -> Path:
        """This machine's copy of the run's weights (fetched from the database on demand; its name is
        its SHA-256); NoModelError when the run has none."""
        path = self.blobs.path(artifact_name(run_id, WEIGHTS_FILE))
        if path is None:
            raise NoModelError(f"run {run_id} has no trained weights (it has not finished, or it failed)")
        return path

    def forget_artifacts(self, run_id: str) -> int:
        return self.blobs.forget(artifact_name(run_id, ""))

    def load_model(self, run_id: str):
        """(config, task data, model on the CPU in eval mode) of a run's trained model; NoModelError when
        it has no weights. Nothing loaded is executed: the config is JSON, the weights safetensors."""
        from safetensors.torch import load_model

        from modelkit import models
        from modelkit.config import RunConfig
        from modelkit.data import tasks

        weights = self.weights_file(run_id)
        config = RunConfig.from_dict(json.loads(self.artifact(run_id, CONFIG_FILE).decode("utf-8")))
        data = tasks.load(config.task)
        model = models.build(config.model, data.spec)
        load_model(model, str(weights), device="cpu")
        return config, data, model.eval()
