"""The instructor's reference for notebook 05's later parts: a weight-decay step, full-batch training on the
L2-regularized cost, a sweep over lambda judged on a validation set, the choice of lambda, and early stopping.

Every recorded cost is J0, the cost without the penalty, after the step (the convention of notebook 05's fit).
``fit_early_stopping`` takes two switches the checks use to reproduce typical slips (``monitor`` and ``patience``
counted one epoch off); the defaults are the notebook's rule.
"""
from __future__ import annotations

import numpy as np

from . import mlp


def decay_step(Ws, bs, X, Y, lam, eta):
    """One gradient step on J0 + lam/(2m) sum ||W||^2, written as weight decay: W <- (1 - eta lam / m) W - eta dJ0/dW,
    b <- b - eta dJ0/db (biases are not decayed)."""
    m = X.shape[1]
    dWs, dbs = mlp.backprop(Ws, bs, X, Y)
    shrink = 1.0 - eta * lam / m
    return [shrink * W - eta * d for W, d in zip(Ws, dWs)], [b - eta * d for b, d in zip(bs, dbs)]


def _step(Ws, bs, X, Y, lam, eta):
    dWs, dbs = mlp.backprop(Ws, bs, X, Y, lam=lam)
    return [W - eta * d for W, d in zip(Ws, dWs)], [b - eta * d for b, d in zip(bs, dbs)]


def fit(X, Y, sizes, lam, eta, epochs, seed, X_val, Y_val):
    """Notebook 05's fit: (Ws, bs, {"train": [...], "test": [...]}), J0 recorded after each step."""
    Ws, bs = mlp.init_params(sizes, np.random.default_rng(seed))
    history = {"train": [], "test": []}
    for _ in range(epochs):
        Ws, bs = _step(Ws, bs, X, Y, lam, eta)
        history["train"].append(mlp.cost(Ws, bs, X, Y))
        history["test"].append(mlp.cost(Ws, bs, X_val, Y_val))
    return Ws, bs, history


def lambda_sweep(X, Y, X_val, Y_val, sizes, lams, eta, epochs, seed):
    """For each lambda, a fit from the same seed: the final training and validation J0, and their gap (val - train)."""
    train, val = [], []
    for lam in lams:
        _, _, h = fit(X, Y, sizes, lam, eta, epochs, seed, X_val, Y_val)
        train.append(h["train"][-1])
        val.append(h["test"][-1])
    train, val = np.array(train), np.array(val)
    return {"train": train, "val": val, "gap": val - train}


def best_lambda(lams, val_costs):
    """The lambda with the smallest validation cost; of equal costs, the largest lambda (the simpler network)."""
    lams, val_costs = np.asarray(lams, dtype=np.float64), np.asarray(val_costs, dtype=np.float64)
    low = np.min(val_costs)
    return float(np.max(lams[val_costs == low]))


def fit_early_stopping(X, Y, sizes, lam, eta, max_epochs, patience, seed, X_val, Y_val, monitor="val",
                       patience_offset=0):
    """Train as fit does; after each step record J0 on both sets; stop once the validation cost has not fallen below
    its best for ``patience`` epochs in a row. Returns (Ws, bs) of the best epoch, that epoch (1-based: the number of
    steps that led to them) and the history {"train", "val"} of every epoch run."""
    Ws, bs = mlp.init_params(sizes, np.random.default_rng(seed))
    history = {"train": [], "val": []}
    best, best_epoch, best_params = np.inf, 0, ([W.copy() for W in Ws], [b.copy() for b in bs])
    for epoch in range(1, max_epochs + 1):
        Ws, bs = _step(Ws, bs, X, Y, lam, eta)
        history["train"].append(mlp.cost(Ws, bs, X, Y))
        history["val"].append(mlp.cost(Ws, bs, X_val, Y_val))
        watched = history[monitor][-1]
        if watched < best:
            best, best_epoch, best_params = watched, epoch, ([W.copy() for W in Ws], [b.copy() for b in bs])
        elif epoch - best_epoch >= patience + patience_offset:
            break
    return best_params[0], best_params[1], best_epoch, history
