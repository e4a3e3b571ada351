"""What the offline planner's learned parts share: hashed features, and multinomial logistic regression fitted by Adam.

The turn-act model (acts.py) and the mention model (mentions.py) both read text as hashed string features and score
their classes with a linear layer; their training scripts (train_acts.py, train_mentions.py) fit it full-batch over a
sparse design matrix. numpy only at run time; scipy's sparse matrices only in training.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable

import numpy as np


def hashed(keys: Iterable[str], dimensions: int) -> dict[int, float]:
    """Counts of ``keys`` hashed (CRC-32) into ``dimensions`` buckets, L2-normalised."""
    counts: dict[int, float] = {}
    for k in keys:
        h = zlib.crc32(k.encode()) % dimensions
        counts[h] = counts.get(h, 0.0) + 1.0
    norm = float(np.sqrt(sum(v * v for v in counts.values()))) or 1.0
    return {h: v / norm for h, v in counts.items()}


def fit_softmax(
    x,
    y: np.ndarray,
    *,
    l2: float,
    steps: int,
    lr: float,
    retarget: Callable[[np.ndarray, np.ndarray], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights (classes, features) and bias (classes,) of a multinomial logistic regression with L2, by full-batch Adam.

    ``x``: (rows, features), sparse or dense; ``y``: (rows, classes) target probabilities. ``retarget(p, y)``, when
    given, rewrites rows of ``y`` in place from the current probabilities ``p`` before each step (for rows whose label
    names a set of classes rather than one)."""
    rows, classes = y.shape
    w = np.zeros((x.shape[1], classes), np.float32)
    b = np.zeros(classes, np.float32)
    m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    for t in range(1, steps + 1):
        logits = x @ w + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        if retarget is not None:
            retarget(p, y)
        g = (p - y) / rows
        g_w = np.asarray(x.T @ g) + l2 * w
        g_b = g.sum(axis=0)
        for param, grad, m, v in ((w, g_w, m_w, v_w), (b, g_b, m_b, v_b)):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            param -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w.T.copy(), b
