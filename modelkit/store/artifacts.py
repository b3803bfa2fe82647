"""A run's artifacts on disk beside the database: its weights (safetensors) and config (JSON), never pickle,
and the one loader of a trained model that Try it, serving, export and Look inside share."""
from __future__ import annotations

import json
from pathlib import Path

WEIGHTS_FILE, CONFIG_FILE = "model.safetensors", "config.json"
FILES = (WEIGHTS_FILE, CONFIG_FILE)


class NoModelError(LookupError):
    """The run has no trained weights to use (not finished, failed, diverged, or deleted)."""


class ArtifactRecords:
    """The part of `Store` that keeps trained models (needs `self.home`)."""

    def artifact_dir(self, run_id: str) -> Path:
        return self.home / "artifacts" / run_id

    def save_artifacts(self, run_id: str, model, config) -> Path:
        """Trained weights as safetensors and the config as JSON (never pickle)."""
        from safetensors.torch import save_model

        folder = self.artifact_dir(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        save_model(model, str(folder / WEIGHTS_FILE), metadata={"run_id": run_id, "arch": config.arch},
                   force_contiguous=True)
        (folder / CONFIG_FILE).write_text(json.dumps(config.to_dict(), indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
        return folder

    def weights_file(self, run_id: str) -> Path:
        """The run's weights file; NoModelError when it has none."""
        path = self.artifact_dir(run_id) / WEIGHTS_FILE
        if not path.exists():
            raise NoModelError(f"run {run_id} has no trained weights (it has not finished, or it failed)")
        return path

    def load_model(self, run_id: str):
        """(config, task data, model on the CPU in eval mode) of a run's trained model; NoModelError when
        it has no weights. Nothing loaded is executed: the config is JSON, the weights safetensors."""
        from safetensors.torch import load_model

        from modelkit import models
        from modelkit.config import RunConfig
        from modelkit.data import tasks

        weights = self.weights_file(run_id)
        config = RunConfig.from_dict(json.loads((weights.parent / CONFIG_FILE).read_text(encoding="utf-8")))
        data = tasks.load(config.task)
        model = models.build(config.model, data.spec)
        load_model(model, str(weights), device="cpu")
        return config, data, model.eval()
