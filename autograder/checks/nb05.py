"""Hidden-test checks for notebook 05, L2 regularization.

The regularized cost is J = (1/m) sum (a^L - y)^2 + lam/(2m) sum_l ||W^l||^2 over the weights only. Every case has
non-zero biases and lam > 0, so regularizing the biases, a 2*lam*W/m or a lam*W without the 1/m all fail; the message
names which of these it looks like. Part B: the test columns must be exactly perm[:n_test] of
np.random.default_rng(seed).permutation(m), as the notebook says; fit's history is compared with the reference run,
and the message tells a cost recorded before each step from one recorded with the penalty in; fit is given the
reference gradient (not the student's backprop), so each part is graded on its own. Parts C-E (the
weight-decay step, the lambda sweep, early stopping) live in ``nb05_select`` and are routed here under nb05's name.
"""
from __future__ import annotations

import numpy as np

from ..reference import mlp
from .numgrad import complex_step_gradient, relative_error
from ._core import (Case, as_float_array, call, check_scalar, compare, float_copies, layer_pair,
                    remote_checks, repeat)
from ._core import Given, rediagnosed, unused
from .nb05_select import reference_grad
from .nb05_select import (check_best_lambda, check_decay_step_biases, check_decay_step_weights,  # noqa: F401
                          check_early_stopping, check_lambda_sweep)


def _problem(case: Case):
    sizes = [case.integer(2, 5)] + [case.integer(2, 5) for _ in range(case.integer(1, 2))] + [case.integer(1, 3)]
    Ws = [case.normal(b, a, scale=0.9) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [case.nonzero(b, 1, low=0.3, high=1.0) for b in sizes[1:]]
    m = case.integer(2, 8)
    X = case.normal(sizes[0], m)
    Y = case.rng.uniform(0.0, 1.0, size=(sizes[-1], m))
    lam = float(case.rng.uniform(0.5, 3.0))
    return sizes, Ws, bs, X, Y, lam




def check_cost_reg(cost) -> None:
    def one(case: Case) -> None:
        _, Ws, bs, X, Y, lam = _problem(case)
        m = X.shape[1]
        got = check_scalar("cost(..., lam)", call("cost", cost, float_copies(Ws), float_copies(bs), X.copy(), Y.copy(), lam))
        want = mlp.cost(Ws, bs, X, Y, lam=lam)
        if abs(got - want) <= 1e-10 * max(1.0, abs(want)):
            return
        data = mlp.cost(Ws, bs, X, Y)
        sw = sum(float(np.sum(W * W)) for W in Ws)
        sb = sum(float(np.sum(b * b)) for b in bs)
        hints = [
            (data + lam / (2 * m) * (sw + sb), "The biases are in the penalty: sum the squares of the weights only."),
            (data + lam / m * sw, "The penalty is twice too large: it is lam/(2m) times the sum of squares."),
            (data + lam / 2 * sw, "The penalty is missing its 1/m: it is lam/(2m) times the sum of squares."),
            (data, "There is no penalty: add lam/(2m) times the sum of the squared weights."),
            (data + lam / (2 * m) * float(np.sqrt(sw)), "Use the squared norms ||W||^2, not the norms."),
        ]
        hint = next((h for v, h in hints if abs(got - v) <= 1e-9 * max(1.0, abs(v))), "")
        raise AssertionError(f"cost with lam = {lam:.3g} is {got:.6g}, expected {want:.6g}. {hint} ({case})")
    repeat(one)


def _penalty_hint(name, got, data_grad, P, lam, m, is_bias):
    """Name the slip from the penalty part of the student's gradient, got - (data gradient)."""
    extra = np.asarray(got, dtype=np.float64) - data_grad
    if is_bias:
        if np.allclose(extra, 0.0, atol=1e-8):
            return ""
        return (f" {name} has an extra term beside the data gradient: the biases are not regularized, so their "
                "gradient is the same as without lam.")
    if np.allclose(extra, lam / m * P, rtol=1e-6, atol=1e-8):
        return ""
    # Every slip that explains the numbers: with m = 2, "2 (lam/m) W" and "lam W" are the same array, and both are said.
    hints = [hint for factor, hint in [
        (lam, "The penalty's gradient is missing its 1/m: it is (lam/m) W."),
        (2 * lam / m, "The penalty's gradient is 2 (lam/m) W, twice too large: "
                      "the 1/2 in lam/(2m) cancels the 2 from the square."),
        (lam / (2 * m), "The penalty's gradient is half what it should be: (lam/m) W."),
        (0.0, "The penalty is missing from the gradient: add (lam/m) W.")]
        if np.allclose(extra, factor * P, rtol=1e-6, atol=1e-8)]
    if len(hints) > 1:
        return f" With a batch of m = {m} two slips give the same numbers: " + " Or: ".join(hints)
    return (" " + hints[0]) if hints else ""


def _check_backprop(backprop, which: int) -> None:
    label = "dJ/dW" if which == 0 else "dJ/db"

    def one(case: Case) -> None:
        _, Ws, bs, X, Y, lam = _problem(case)
        m = X.shape[1]
        out = layer_pair("backprop(..., lam)",
                         call("backprop", backprop, float_copies(Ws), float_copies(bs), X.copy(), Y.copy(), lam),
                         len(Ws), what="(dWs, dbs), two lists with one array per layer")
        data_W, data_b = mlp.backprop(Ws, bs, X, Y)
        params = Ws if which == 0 else bs
        for l, P in enumerate(params):
            def J(p, l=l):
                Ws2, bs2 = float_copies(Ws), float_copies(bs)
                (Ws2 if which == 0 else bs2)[l] = p
                return mlp.cost(Ws2, bs2, X, Y, lam=lam)
            # complex step of the reference cost (weights and penalty are analytic): exact to a few ulps, with no
            # round-off growing like |J| / eps as central differences had
            want = complex_step_gradient(J, P)
            got = as_float_array(f"{label}^{l + 1}", out[which][l])
            try:
                compare(f"{label}^{l + 1} (lam = {lam:.3g})", got, want, case, batch_size=m)
            except AssertionError as e:
                hint = ""
                if got.shape == want.shape:
                    hint = _penalty_hint(f"{label}^{l + 1}", got, (data_W if which == 0 else data_b)[l], P, lam, m,
                                         which == 1)
                raise AssertionError(rediagnosed(str(e), hint, case)) from None
    repeat(one)


def check_backprop_reg_weights(backprop) -> None:
    _check_backprop(backprop, 0)


def check_backprop_reg_biases(backprop) -> None:
    _check_backprop(backprop, 1)


# ---------------------------------------------------------------- Part B


def _split_hint(split, X, Y, m, n_test, seed, got_test) -> str:
    """Why the test columns are not perm[:n_test] of np.random.default_rng(seed).permutation(m): the cause first, then
    the case (column lists cut to their first entries)."""
    perm = np.random.default_rng(seed).permutation(m)
    cut = lambda ids: "[" + ", ".join(map(str, ids[:8])) + (", ...]" if len(ids) > 8 else "]")  # noqa: E731
    case = (f"With m = {m} columns, n_test = {n_test} and seed {seed}, perm = np.random.default_rng({seed})"
            f".permutation({m}) puts the columns {cut(sorted(perm[:n_test].tolist()))} in the test set; yours has "
            f"{cut(got_test)}.")
    if got_test == sorted(perm[m - n_test:].tolist()):
        return ("your test set is the last n_test entries of the permutation: the test set is the first n_test, "
                "perm[:n_test], and the training set the rest, perm[n_test:]. " + case)
    again = call("split_train_test", split, X.copy(), Y.copy(), n_test, seed)
    if sorted(np.asarray(again[2], dtype=np.float64)[0].astype(int).tolist()) != got_test:
        return ("the same seed gave a different split: draw from rng = np.random.default_rng(rng), not from "
                "np.random. The test set is perm[:n_test] with perm = rng.permutation(m). " + case)
    return ("the test columns should be perm[:n_test], with perm = rng.permutation(m) the first draw from rng "
            "(rng.choice, or anything drawn before the permutation, picks other columns), and the training columns "
            "perm[n_test:]. " + case)


def check_split(split) -> None:
    """A partition of the columns: sizes, no column lost or repeated, labels kept with their columns, and the test
    columns exactly perm[:n_test] with perm = np.random.default_rng(seed).permutation(m), as the notebook says."""
    case = Case()
    for _ in range(3):
        m = case.integer(12, 40)
        n_test = case.integer(1, m - 1)
        X = np.vstack([np.arange(m, dtype=np.float64), case.normal(m)])
        Y = (np.arange(m, dtype=np.float64) * 10.0)[None, :]
        seed = int(case.rng.integers(0, 2**31))
        out = call("split_train_test", split, X.copy(), Y.copy(), n_test, seed)
        if not (isinstance(out, tuple) and len(out) == 4):
            raise AssertionError("split_train_test should return (X_train, Y_train, X_test, Y_test).")
        Xtr, Ytr, Xte, Yte = (as_float_array(n, a) for n, a in zip(["X_train", "Y_train", "X_test", "Y_test"], out))
        if Xte.shape != (2, n_test) or Xtr.shape != (2, m - n_test):
            raise AssertionError(f"m = {m} columns with n_test = {n_test}: X_test should be (2, {n_test}) and X_train "
                                 f"(2, {m - n_test}); got {Xte.shape} and {Xtr.shape}. Split the columns, not the rows.")
        if Ytr.shape != (1, m - n_test) or Yte.shape != (1, n_test):
            raise AssertionError("Y_train and Y_test should keep Y's row and take the same columns as X_train, X_test.")
        ids = np.concatenate([Xtr[0], Xte[0]])
        if sorted(ids.tolist()) != list(range(m)):
            raise AssertionError("every column should end up in exactly one of the two parts.")
        if not (np.array_equal(Ytr[0], Xtr[0] * 10.0) and np.array_equal(Yte[0], Xte[0] * 10.0)):
            raise AssertionError("each Y column must stay with its X column: index X and Y with the same indices.")
        if not (np.array_equal(Xtr[1], X[1, Xtr[0].astype(int)]) and np.array_equal(Xte[1], X[1, Xte[0].astype(int)])):
            raise AssertionError("the columns should be copied whole, not rearranged within.")
        got_test = sorted(Xte[0].astype(int).tolist())
        if got_test != sorted(np.random.default_rng(seed).permutation(m)[:n_test].tolist()):
            raise AssertionError("split_train_test: " + _split_hint(split, X, Y, m, n_test, seed, got_test)
                                 + f" ({case})")


def _as_reference_run(check):
    """Parameters are compared with the reference run, not with a numerical gradient: say so in the message."""
    def wrapped(*args):
        try:
            check(*args)
        except AssertionError as e:
            raise AssertionError(str(e).replace("against the numerical gradient", "against the reference run")) from None
    return wrapped


def _reference_fit(X, Y, Xt, Yt, sizes, lam, eta, epochs, seed):
    """The reference run: (Ws, bs, histories), histories[kind][key] for kind "after" (right), "before" (the cost
    recorded before each step), "after_pen" and "before_pen" (the same with the penalty in), key "train" or "test"."""
    rW, rb = mlp.init_params(sizes, np.random.default_rng(seed))
    runs = {kind: {"train": [], "test": []} for kind in ("after", "before", "after_pen", "before_pen")}

    def record(when):
        for key, (A, B) in (("train", (X, Y)), ("test", (Xt, Yt))):
            runs[when][key].append(mlp.cost(rW, rb, A, B))
            runs[when + "_pen"][key].append(mlp.cost(rW, rb, A, B, lam=lam))
    for _ in range(epochs):
        record("before")
        dW, db = mlp.backprop(rW, rb, X, Y, lam=lam)
        rW = [W - eta * d for W, d in zip(rW, dW)]
        rb = [b - eta * d for b, d in zip(rb, db)]
        record("after")
    return rW, rb, runs


def _slips(label: str) -> dict:
    """Kind of recorded history -> what the student reads when theirs matches it."""
    before = (f"{label} holds the cost before each step: its first entry is the cost at the initial parameters, and "
              "the cost after the last step is missing. Append the cost after the update, so that the last entry is "
              "the cost of the returned Ws and bs.")
    pen = (f"{label} includes the L2 penalty: record the cost without it (lam = 0), so that runs with different lam "
           "compare on the same scale.")
    return {"before": before, "after_pen": pen, "before_pen": before + " Also, " + pen[0].lower() + pen[1:]}


def _check_history(key, got, runs, epochs, case) -> None:
    """history[key] against the reference run, naming the slip it matches (cost before the step, penalty included)."""
    label = f"history['{key}']"
    got = np.ravel(as_float_array(label, got))
    right = np.asarray(runs["after"][key])

    def same(want):
        want = np.asarray(want)
        return got.shape == want.shape and np.all(np.isfinite(got)) and relative_error(got, want) <= 1e-8
    if same(right):
        return
    slips = _slips(label)
    hint = next((text for kind, text in slips.items() if same(runs[kind][key])), "")
    if not hint and got.size == epochs + 1 and same(np.r_[runs["before"][key][:1], right]):
        hint = (f"{label} starts with the cost at the initial parameters: record only the cost after each step, "
                "one entry per epoch.")
    if not hint and same(runs["after"]["test" if key == "train" else "train"]):
        hint = f"{label} holds the {'test' if key == 'train' else 'training'} cost: train and test are swapped."
    if not hint and got.size != epochs:
        hint = f"{label} should have one entry per epoch, {epochs}, but has {got.size}."
    what = "training" if key == "train" else "test"
    hint = hint or f"It should hold the {what} cost without the penalty, recorded after each step."
    shown = lambda a: "[" + ", ".join(f"{v:.6g}" for v in np.ravel(a)[:4]) + (", ...]" if np.size(a) > 4 else "]")  # noqa: E731
    raise AssertionError(f"{label} after {epochs} epochs should start {shown(right)}, but starts {shown(got)}. {hint} "
                         f"({case})")


@_as_reference_run
def check_fit(fit) -> None:
    """Full-batch descent on the regularized cost, compared step for step with the reference on a small problem. fit
    is given the reference gradient as ``grad``, so that a wrong backprop of Part A.2 costs nothing here."""
    def one(case: Case) -> None:
        sizes, _, _, X, Y, lam = _problem(case)
        Xt = case.normal(sizes[0], case.integer(2, 6))
        Yt = case.rng.uniform(0.0, 1.0, size=(sizes[-1], Xt.shape[1]))
        eta = float(case.rng.uniform(0.2, 1.0))
        epochs = case.integer(3, 8)
        seed = int(case.rng.integers(0, 2**31))
        grad = Given(reference_grad)
        out = call("fit", fit, X.copy(), Y.copy(), list(sizes), lam, eta, epochs, seed, Xt.copy(), Yt.copy(), grad)
        unused(grad, "fit", "grad", "gradient")
        if not (isinstance(out, tuple) and len(out) == 3):
            raise AssertionError("fit should return (Ws, bs, history).")
        Ws, bs, hist = out
        if not (isinstance(hist, dict) and {"train", "test"} <= set(hist)):
            raise AssertionError("history should be a dict with the lists 'train' and 'test'.")
        rW, rb, runs = _reference_fit(X, Y, Xt, Yt, sizes, lam, eta, epochs, seed)
        if len(Ws) != len(rW) or len(bs) != len(rb):
            raise AssertionError("fit should return one weight matrix and one bias per layer.")
        for l in range(len(rW)):
            compare(f"W^{l + 1} after {epochs} steps", Ws[l], rW[l], case, tol=1e-8)
            compare(f"b^{l + 1} after {epochs} steps", bs[l], rb[l], case, tol=1e-8)
        for key in ("train", "test"):
            _check_history(key, hist[key], runs, epochs, case)
    repeat(one, times=3)


DEMO_BUG = {
    "cell": "reg",
    "old": "dWs[l] + (lam / m) * Ws[l]",
    "new": "dWs[l] + lam * Ws[l]",
    "loses": ["test_backprop_reg_weights"],  # fit, the sweep and early stopping are given the reference
    "says": "1/m",
}

DEMO_WRITTEN = {
    "written_biases": "The biases are not multiplied by the inputs, so they do not matter much for overfitting. "
                      "That is why we only penalize the weights.",
}

BROKEN_PART = {  # the weight-decay step and early stopping left blank: nothing else uses them
    "cells": ["decay", "early"],
    "loses": ["test_decay_step_weights", "test_decay_step_biases", "test_early_stopping"],
}


remote_checks(globals())
