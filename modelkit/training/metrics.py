"""Metrics from predictions: classification, regression, language model.

scikit-learn computes what it already computes well; this file only shapes the
results into flat `{name: float}` metrics plus JSON-able details for the pages.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from sklearn import metrics as skm


def classification(y_true: torch.Tensor, logits: torch.Tensor, class_names=()) -> tuple[dict, dict]:
    """accuracy, macro precision / recall / F1; details: confusion matrix and per-class scores."""
    y = y_true.cpu().numpy()
    pred = logits.argmax(-1).cpu().numpy()
    labels = list(range(logits.shape[-1]))
    p, r, f, support = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    names = list(class_names) or [str(i) for i in labels]
    metrics = {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "precision": float(p.mean()),
        "recall": float(r.mean()),
        "f1": float(f.mean()),
    }
    details = {
        "class_names": names,
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=labels).tolist(),
        "per_class": [{"class": names[i], "precision": float(p[i]), "recall": float(r[i]),
                       "f1": float(f[i]), "support": int(support[i])} for i in labels],
    }
    return metrics, details


def regression(y_true: torch.Tensor, y_pred: torch.Tensor) -> dict:
    """MSE, MAE and R² over all predicted values."""
    y = y_true.detach().cpu().numpy().reshape(len(y_true), -1)
    p = y_pred.detach().cpu().numpy().reshape(len(y_pred), -1)
    return {
        "mse": float(skm.mean_squared_error(y, p)),
        "mae": float(skm.mean_absolute_error(y, p)),
        "r2": float(skm.r2_score(y.ravel(), p.ravel())),
    }


def perplexity(mean_cross_entropy: float) -> float:
    """e ** (mean cross-entropy in nats): the number of characters the model is 'choosing between'."""
    return float(math.exp(min(mean_cross_entropy, 50.0)))


def frequency_perplexity(y_true: torch.Tensor, char_freq) -> float:
    """Perplexity of the baseline that predicts each character by its frequency alone."""
    freq = np.clip(np.asarray(char_freq, dtype=np.float64), 1e-9, None)
    ids = y_true.reshape(-1).cpu().numpy()
    return perplexity(float(-np.log(freq[ids]).mean()))


SAME_AS_BASELINE = 0.05   # perplexities within 5 % of the letter-frequency baseline: about as good as it


def against_baseline(perplexity_: float, baseline: float) -> tuple[str, float]:
    """How a language model compares with guessing by letter frequency: ("better" | "same" | "worse", how
    many times lower or higher its perplexity is)."""
    ratio = perplexity_ / baseline
    if ratio > 1 + SAME_AS_BASELINE:
        return "worse", ratio
    if ratio < 1 - SAME_AS_BASELINE:
        return "better", 1 / ratio
    return "same", 1.0
