"""Ready-made settings that fill a form in one click (titles live in the translations: preset.<id>)."""
from __future__ import annotations

from dataclasses import dataclass

from modelkit.config import RunConfig, make_config
from modelkit.ui.labels import localized


@dataclass(frozen=True)
class Preset:
    id: str
    task: str
    archs: tuple          # the first is the one a single-run page trains; Compare uses them all
    sets: tuple = ()      # --set style overrides, e.g. "train.time_budget=15"

    def config(self, arch: str | None = None, lang: str | None = None) -> RunConfig:
        """The preset's settings in the page's language (`lang`, else the session's): Chinese text on a Chinese page."""
        return localized(make_config(self.task, arch or self.archs[0], sets=list(self.sets)), lang)


PRESETS = (
    Preset("digits_cnn", "digits", ("cnn",), ("train.epochs=null", "train.time_budget=15")),
    Preset("spiral_mlp", "spiral", ("mlp",), ("train.epochs=40",)),
    Preset("mnist1d_cnn_mlp", "mnist1d", ("cnn", "mlp"), ("train.epochs=10",)),
    Preset("sine_lstm", "sine", ("lstm",), ("train.epochs=40",)),
    Preset("text_transformer", "text", ("transformer",), ("train.time_budget=45",)),
)
