"""Diagnosis of a run's curves: diverged, overfitting, stalled, or nothing to say."""
import numpy as np
import pandas as pd

from modelkit.training.diagnosis import diagnose


def frame(loss, val=(), eval_every=None):
    rows = [{"step": i + 1, "name": "loss", "value": v} for i, v in enumerate(loss)]
    every = eval_every or max(1, len(loss) // max(1, len(val)))
    rows += [{"step": (i + 1) * every, "name": "val_loss", "value": v} for i, v in enumerate(val)]
    return pd.DataFrame(rows)


def test_a_healthy_run_has_no_findings():
    loss = np.linspace(2.3, 0.2, 200)
    assert diagnose(frame(loss, np.linspace(2.2, 0.3, 10))) == []


def test_an_exploding_loss_is_diverged():
    loss = np.concatenate([np.linspace(2.3, 2.0, 50), np.geomspace(2.0, 1e4, 50)])
    assert diagnose(frame(loss)) == ["diverged"]


def test_a_nan_loss_is_diverged():
    assert diagnose(frame([2.3, 2.1, float("nan")])) == ["diverged"]


def test_the_runs_own_diverged_status_counts():
    assert diagnose(frame(np.linspace(2.3, 2.0, 30)), status="diverged") == ["diverged"]


def test_rising_validation_with_falling_training_is_overfitting():
    loss = np.linspace(1.0, 0.01, 300)
    val = [1.0, 0.7, 0.5, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert diagnose(frame(loss, val)) == ["overfitting"]


def test_a_validation_loss_wobbling_near_zero_is_not_overfitting():
    loss = np.linspace(2.0, 0.001, 300)
    val = [2.04, 0.5, 0.1, 0.05, 0.029, 0.034, 0.036, 0.035, 0.037, 0.038]  # +30 %, but 0.5 % of the fall
    assert diagnose(frame(loss, val)) == []


def test_a_flat_loss_is_stalled():
    rng = np.random.default_rng(0)
    loss = 2.30 + 0.01 * rng.standard_normal(200)
    assert diagnose(frame(loss, [2.3] * 5)) == ["stalled"]


def test_too_few_points_say_nothing():
    assert diagnose(frame([2.3, 2.3, 2.3])) == []
