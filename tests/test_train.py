"""fit(): real learning on small budgets, the budget rules, events, stop, divergence, determinism."""
import math
import subprocess
import sys

import pytest

from modelkit import models
from modelkit.config import make_config
from modelkit.data import tasks
from modelkit.training import evaluation
from modelkit.training.loop import Callback, fit, lr_factor, run


class Recorder(Callback):
    def __init__(self, stop_after=None):
        self.steps, self.evals, self.begin, self.end, self.stop_after = [], [], None, None, stop_after

    def on_fit_begin(self, **info):
        self.begin = info

    def on_step(self, **info):
        self.steps.append(info)

    def on_eval(self, **info):
        self.evals.append(info)

    def on_fit_end(self, **info):
        self.end = info["result"]

    def should_stop(self):
        return self.stop_after is not None and len(self.steps) >= self.stop_after


def test_mlp_learns_moons_above_95_percent():
    result, _ = run(make_config("moons", "mlp"))
    assert result.status == "completed"
    assert result.metrics["test_accuracy"] >= 0.95


def test_cnn_learns_digits_above_97_percent():
    result, _ = run(make_config("digits", "cnn"))
    assert result.metrics["test_accuracy"] >= 0.97


def test_same_seed_same_config_gives_the_same_metrics():
    cfg = make_config("wine", "mlp", ["train.epochs=5", "model.dropout=0.2"])
    first, _ = run(cfg)
    second, _ = run(cfg)
    assert first.metrics == second.metrics


def test_other_seed_gives_other_weights():
    a, _ = run(make_config("wine", "mlp", ["train.epochs=2", "train.seed=1"]))
    b, _ = run(make_config("wine", "mlp", ["train.epochs=2", "train.seed=2"]))
    assert a.metrics["test_loss"] != b.metrics["test_loss"]


def test_events_report_every_step_and_one_evaluation_per_epoch():
    rec = Recorder()
    result, _ = run(make_config("iris", "mlp", ["train.epochs=3", "train.batch_size=32"]), [rec])
    assert [s["step"] for s in rec.steps] == list(range(1, result.steps + 1))
    assert result.steps == 3 * rec.begin["steps_per_epoch"] == rec.begin["max_steps"]
    assert len(rec.evals) == 3 and "val_accuracy" in rec.evals[-1]["metrics"]
    assert all({"loss", "lr", "samples_per_s", "seconds", "epoch"} <= set(s) for s in rec.steps)
    assert rec.end is result


def test_each_evaluation_hands_its_hooks_the_model_the_data_and_the_device():
    rec = Recorder()
    _, model = run(make_config("xor", "mlp", ["train.epochs=2"]), [rec])
    last = rec.evals[-1]
    assert last["model"] is model and last["data"].spec.name == "xor" and str(last["device"]) == "cpu"


def test_fit_alone_trains_and_validates_but_leaves_the_test_set_to_run():
    config = make_config("wine", "mlp", ["train.epochs=3"])
    data = tasks.load(config.task)
    result = fit(models.build(config.model, data.spec), data, config.train)
    assert result.status == "completed" and result.steps > 0
    assert set(result.metrics) == {"best_val_loss"} and result.details == {}


def test_run_adds_the_test_metrics_and_details_to_what_fit_returned():
    rec = Recorder()
    result, _ = run(make_config("wine", "mlp", ["train.epochs=3"]), [rec])
    assert rec.end is result
    assert {"test_loss", "test_accuracy", "best_val_loss"} <= set(result.metrics)
    assert "confusion_matrix" in result.details


def test_stop_request_is_honoured_at_the_next_step():
    rec = Recorder(stop_after=5)
    result, _ = run(make_config("moons", "mlp"), [rec], should_stop=rec.should_stop)
    assert result.status == "stopped" and result.steps == 5
    assert "test_accuracy" in result.metrics  # a stopped run still reports its test metrics


def test_time_budget_alone_ends_the_run():
    result, _ = run(make_config("moons", "mlp", ["train.epochs=null", "train.time_budget=0.5"]))
    assert result.status == "completed"
    assert result.seconds >= 0.5 and result.steps > 0


def test_epochs_end_the_run_before_a_long_time_budget():
    result, _ = run(make_config("iris", "linear", ["train.epochs=2", "train.time_budget=600"]))
    assert result.epochs == 2


def test_a_huge_learning_rate_diverges_with_a_plain_reason():
    result, _ = run(make_config("sine", "linear", ["train.optimizer=sgd", "train.lr=5", "train.epochs=5"]))
    assert result.status == "diverged"
    assert "learning rate" in result.message and "10x lower" in result.message
    assert result.metrics == {}


def test_full_batch_gradient_descent_takes_one_step_per_epoch():
    result, _ = run(make_config("moons", "linear", ["train.optimizer=gd", "train.lr=0.5", "train.epochs=7"]))
    assert result.steps == 7


def test_mse_on_one_hot_targets_still_learns_moons():
    result, _ = run(make_config("moons", "mlp", ["train.loss=mse", "train.lr=0.01"]))
    assert result.metrics["test_accuracy"] >= 0.9


def test_regression_reports_mse_mae_r2_and_learns_the_sine():
    result, _ = run(make_config("sine", "mlp", ["train.loss=mae"]))
    assert {"test_mse", "test_mae", "test_r2"} <= set(result.metrics)
    assert result.metrics["test_r2"] > 0.8
    assert len(result.details["series"][0]["pred"]) == 5


def test_language_model_beats_character_frequencies_and_writes_text():
    cfg = make_config("text", "linear", ["train.epochs=1", "train.time_budget=null", "train.lr=0.05"])
    result, _ = run(cfg)
    assert result.metrics["test_perplexity"] < 0.7 * result.metrics["test_baseline_perplexity"]
    assert len(result.details["sample_text"]) > len(result.details["prompt"]) + 100


def test_classification_details_hold_the_confusion_matrix_and_examples():
    result, _ = run(make_config("blobs", "mlp", ["train.epochs=5"]))
    cm = result.details["confusion_matrix"]
    assert len(cm) == 3 and sum(map(sum, cm)) == 200
    assert len(result.details["per_class"]) == 3 and result.details["examples"]


def test_early_stopping_ends_a_run_that_no_longer_improves():
    result, _ = run(make_config("iris", "mlp", ["train.epochs=2000", "train.early_stopping=3", "train.lr=0.05"]))
    assert result.status == "completed" and result.epochs < 2000
    assert "Stopped early" in result.message


@pytest.mark.parametrize("sets", [
    ["train.epochs=2000", "train.early_stopping=3", "train.lr=0.05"],          # ended by early stopping
    ["train.epochs=2", "train.batch_size=32", "train.eval_every=3", "train.early_stopping=5"],   # between checks
])
def test_early_stopping_keeps_the_weights_of_the_best_validation_check(sets):
    config = make_config("iris", "mlp", sets)
    result, model = run(config)
    data = tasks.load(config.task)
    loss = evaluation.loss_fn(config.train.loss, data.spec)
    val, _, _ = evaluation.evaluate(model, data.x_val, data.y_val, data.spec, loss, "cpu", "val")
    assert val["val_loss"] == pytest.approx(result.metrics["best_val_loss"])


@pytest.mark.parametrize("schedule", ["constant", "step", "cosine", "warmup_cosine"])
def test_schedules_start_near_the_base_rate_and_stay_positive(schedule):
    cfg = make_config("moons", "mlp", [f'train.schedule="{schedule}"']).train
    factors = [lr_factor(cfg, p / 10, epoch=p) for p in range(11)]
    assert all(0 <= f <= 1 for f in factors)
    assert max(factors[:2]) > 0.05
    if schedule in ("cosine", "warmup_cosine"):
        assert math.isclose(factors[-1], 0.0, abs_tol=1e-9)


def test_the_engine_never_imports_streamlit():
    code = ("import sys, modelkit.cli, modelkit.training.loop, modelkit.models, modelkit.data.tasks, modelkit.training.metrics; "
            "import importlib, pkgutil, modelkit; "
            "[importlib.import_module('modelkit.' + m.name) for m in pkgutil.iter_modules(modelkit.__path__) "
            "if m.name not in ('ui', '__main__')]; print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
