"""Hidden-test checks for notebook 03, gradient checking.

The student's checker is tried on functions it has never seen (including integer arrays, which it must not perturb in
place), and on backprops with bugs planted at grading time (``autograder.checks.diagnose.backprop_variant``), whose wrong
layers it must name. Timing functions are only checked for their structure: timings are never asserted.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..reference import mlp
from .diagnose import backprop_variant, layer_errors
# Parts A and B live in nb03_numgrad; imported here so that they are routed to the judge as nb03.check_*.
from .nb03_numgrad import (check_numerical_gradient, check_numgrad_copy, check_relative_error, check_eps_sweep, check_eps_choice)  # noqa: F401
from ._core import remote_checks, Case, call, check_scalar, compare, mapping, repeat


# ---------------------------------------------------------------- Part C: checking a backprop


def _network(case: Case, sizes, m, act, min_norm=1e-2):
    """A network whose every gradient block is comfortably large, so relative errors without a floor are meaningful.
    None if 50 draws with these sizes all had a small gradient somewhere (the caller then draws new sizes)."""
    for _ in range(50):
        Ws = [case.normal(o, i, scale=1.5 / np.sqrt(i)) for i, o in zip(sizes[:-1], sizes[1:])]
        bs = [case.nonzero(o, 1, low=0.1, high=0.6) for o in sizes[1:]]
        X = case.normal(sizes[0], m)
        Y = case.rng.uniform(0.05, 0.95, size=(sizes[-1], m))
        dWs, dbs = mlp.backprop(Ws, bs, X, Y, act)
        if min(float(np.linalg.norm(g)) for g in dWs + dbs) >= min_norm:
            return Ws, bs, X, Y
    return None


def _cost_fn(act):
    return lambda Ws, bs, X, Y: mlp.cost(Ws, bs, X, Y, act)


def _backprop_fn(act, bug=None, layer=None):
    def bp(Ws, bs, X, Y):
        _, dWs, dbs = backprop_variant(Ws, bs, X, Y, act, bug=bug, layer=layer)
        return dWs, dbs
    return bp


def _names(L):
    return [f"W{l}" for l in range(1, L + 1)] + [f"b{l}" for l in range(1, L + 1)]


def _planted(case: Case):
    """A network, a backprop with one bug planted in one layer, and the set of parameters it gets wrong."""
    for _ in range(2000):
        act = ["sigmoid", "tanh"][case.integer(0, 1)]
        L = case.integer(2, 4)
        bug = ["no_transpose", "no_fprime_hidden", "bias_axis", "own_activation", "sign_layer"][case.integer(0, 4)]
        layer = case.integer(1, L - 1) if bug in ("no_transpose", "no_fprime_hidden") else case.integer(1, L)
        sizes = [case.integer(2, 5) for _ in range(L + 1)]
        if bug == "no_transpose":  # W^{layer+1} square, and every layer above too, so the bug runs
            for i in range(layer, L + 1):
                sizes[i] = sizes[layer]
        if bug == "own_activation":
            sizes[layer] = sizes[layer - 1]
        m = case.integer(2, 5)
        net = _network(case, sizes, m, act)
        if net is None:
            continue
        Ws, bs, X, Y = net
        if bug == "sign_layer":  # one layer's weight gradient with the wrong sign: only W^layer is wrong
            good = _backprop_fn(act)

            def buggy(Ws_, bs_, X_, Y_, _l=layer, _g=good):
                dWs, dbs = _g(Ws_, bs_, X_, Y_)
                dWs[_l - 1] = -dWs[_l - 1]
                return dWs, dbs
        else:
            buggy = _backprop_fn(act, bug, layer)
        try:
            bW, bb = buggy(Ws, bs, X, Y)
        except ValueError:
            continue
        gW, gb = mlp.backprop(Ws, bs, X, Y, act)
        errs = dict(zip(_names(L), layer_errors(bW, gW, floor=0.0) + layer_errors(bb, gb, floor=0.0)))
        if all(e < 1e-12 or e > 1e-3 for e in errs.values()) and any(e > 1e-3 for e in errs.values()):
            wrong = {k for k, e in errs.items() if e > 1e-3}
            return act, sizes, Ws, bs, X, Y, buggy, wrong, f"{bug} in layer {layer}"
    raise RuntimeError("could not plant a visible bug")


def _report(gradient_check, cost_fn, backprop_fn, Ws, bs, X, Y, L):
    Wc, bc = [W.copy() for W in Ws], [b.copy() for b in bs]
    rep = call("gradient_check", gradient_check, cost_fn, backprop_fn, Wc, bc, X.copy(), Y.copy())
    rep = mapping("gradient_check(...)", rep, _names(L))
    if not all(np.array_equal(a, b) for a, b in zip(Wc + bc, Ws + bs)):
        raise AssertionError("gradient_check changed the parameters it was given: perturb copies.")
    return {k: check_scalar(f"the relative error for {k}", rep[k]) for k in _names(L)}


def check_gradient_check(gradient_check) -> None:
    """The report of a correct backprop is all below 1e-6; for a planted bug it matches the true relative errors."""
    def one(case: Case) -> None:
        act, sizes, Ws, bs, X, Y, buggy, wrong, what = _planted(case)
        L = len(Ws)
        where = f"layer sizes {'-'.join(map(str, sizes))}, {act}, batch of {X.shape[1]}; {case}"
        rep = _report(gradient_check, _cost_fn(act), _backprop_fn(act), Ws, bs, X, Y, L)
        high = {k: v for k, v in rep.items() if not v <= 1e-6}
        if high:
            raise AssertionError(f"for a CORRECT backprop gradient_check reports relative errors {high}; they should "
                                 f"all be below 1e-6. Check numerical_gradient and how each parameter is perturbed "
                                 f"inside the cost. ({where})")
        rep = _report(gradient_check, _cost_fn(act), buggy, Ws, bs, X, Y, L)
        bW, bb = buggy(Ws, bs, X, Y)
        gW, gb = mlp.backprop(Ws, bs, X, Y, act)
        true = dict(zip(_names(L), layer_errors(bW, gW, floor=0.0) + layer_errors(bb, gb, floor=0.0)))
        for k in _names(L):
            t, g = true[k], rep[k]
            ok = (math.isinf(t) and math.isinf(g)) or (t < 1e-12 and g <= 1e-6) or \
                (np.isfinite(t) and t > 1e-3 and abs(g - t) <= 1e-3 * t)
            if not ok:
                raise AssertionError(f"for a backprop with a planted bug, the relative error of {k} should be "
                                     f"{t:.4g}, but gradient_check reports {g:.4g}. ({where})")
    repeat(one, times=4)


def check_wrong_parameters(wrong_parameters) -> None:
    def one(case: Case) -> None:
        L = case.integer(1, 4)
        rep = {}
        for k in _names(L):
            kind = case.integer(0, 3)
            rep[k] = [float(10.0 ** case.rng.uniform(-12, -7)), float(10.0 ** case.rng.uniform(-3, 0)),
                      float("inf"), 2e-6][kind]
        for tol, kwargs in ((1e-6, {}), (1e-5, {"tol": 1e-5})):
            got = call("wrong_parameters", wrong_parameters, dict(rep), **kwargs)
            if not isinstance(got, (list, tuple, set, frozenset)):
                raise AssertionError(f"wrong_parameters should return a list of names, got {type(got).__name__}.")
            want = {k for k, v in rep.items() if v > tol}
            if set(got) != want:
                raise AssertionError(f"wrong_parameters({rep}{', tol=1e-5' if kwargs else ''}) should name "
                                     f"{sorted(want)}, got {sorted(map(str, got))}.")
    repeat(one)


#: What the notebook's three planted bugs get wrong (network 3-4-4-2): A has no transpose in delta^1, B no sigma' in
#: delta^2, C sums layer 3's bias over the units.
PLANTED = {"A": {"W1", "b1"}, "B": {"W1", "b1", "W2", "b2"}, "C": {"b3"}}


def check_planted_bugs(flagged, gradient_check, wrong_parameters) -> None:
    flagged = mapping("flagged", flagged, list(PLANTED))
    for k, want in PLANTED.items():
        if not isinstance(flagged[k], (list, tuple, set, frozenset)) or set(flagged[k]) != want:
            raise AssertionError(f"flagged[{k!r}] should name the parameters whose gradient bug {k} gets wrong; got "
                                 f"{flagged[k]!r}. Run gradient_check on it and read the report.")

    def one(case: Case) -> None:
        act, sizes, Ws, bs, X, Y, buggy, wrong, what = _planted(case)
        rep = _report(gradient_check, _cost_fn(act), buggy, Ws, bs, X, Y, len(Ws))
        got = call("wrong_parameters", wrong_parameters, rep)
        if set(got) != wrong:
            raise AssertionError(f"on a backprop with a bug planted at grading time, your checker names {sorted(got)}; "
                                 f"the wrong gradients are {sorted(wrong)}. (layer sizes {'-'.join(map(str, sizes))}, "
                                 f"{act}; {case})")
    repeat(one, times=4)


def check_which_bug(which_bug) -> None:
    which_bug = mapping("which_bug", which_bug, ["A", "B", "C"])
    words = {"A": ("transpose",), "B": ("sigma", "σ", "prime", "derivative", "f'"), "C": ("bias", "axis")}
    for k, ws in words.items():
        text = str(which_bug[k]).lower()
        if not any(w in text for w in ws):
            raise AssertionError(f"which_bug[{k!r}] = {which_bug[k]!r} does not match the layers bug {k} gets wrong. "
                                 "A bug in the step that makes delta^m spoils layer m and every layer below it; a bug "
                                 "in the line that makes one gradient spoils only that one.")


# ---------------------------------------------------------------- Part D: what a numerical gradient costs


def check_growth_exponent(growth_exponent) -> None:
    def one(case: Case) -> None:
        P = np.sort(case.rng.uniform(10, 1e5, size=case.integer(3, 7)))
        k = float(case.rng.uniform(0.5, 2.5))
        t = 1e-5 * P ** k * np.exp(case.normal(P.size, scale=0.1))
        want = float(np.polyfit(np.log(P), np.log(t), 1)[0])
        got = check_scalar("growth_exponent", call("growth_exponent", growth_exponent, P.copy(), t.copy()))
        compare("growth_exponent (the slope of log t against log P)", got, want, case, tol=1e-8)
    repeat(one)


def check_timing_table(timing_table) -> None:
    widths = [2, 3]
    rows = call("timing_table", timing_table, widths, repeats=1)
    if not isinstance(rows, (list, tuple)) or len(rows) != len(widths):
        raise AssertionError(f"timing_table({widths}) should return one row per width, {len(widths)} rows.")
    for w, row in zip(widths, rows):
        if not (isinstance(row, (list, tuple)) and len(row) == 3):
            raise AssertionError("each row of timing_table is (P, seconds for backprop, seconds for numerical).")
        P = check_scalar("P", row[0])
        want = 3 * (w * w + w)
        if P != want:
            raise AssertionError(f"for width {w} and 3 layers of weights P should be 3 * ({w}*{w} + {w}) = {want}, "
                                 f"got {P:g}. Count weights and biases.")
        for name, t in (("backprop", row[1]), ("numerical", row[2])):
            t = check_scalar(f"the {name} time", t)
            if not (np.isfinite(t) and t > 0):
                raise AssertionError(f"the {name} time should be a positive number of seconds, got {t}.")


# ---------------------------------------------------------------- Part E: training


def _reference_training(cost_fn, bp, Ws, bs, X, Y, lr, steps):
    """Plain gradient descent. Returns (Ws, bs, costs, smallest gradient-block norm met before any step)."""
    Ws, bs = [W.copy() for W in Ws], [b.copy() for b in bs]
    costs, smallest = [], np.inf
    for _ in range(steps):
        dWs, dbs = bp(Ws, bs, X, Y)
        smallest = min(smallest, min(float(np.linalg.norm(g)) for g in dWs + dbs))
        Ws = [W - lr * g for W, g in zip(Ws, dWs)]
        bs = [b - lr * g for b, g in zip(bs, dbs)]
        costs.append(cost_fn(Ws, bs, X, Y))
    return Ws, bs, costs, smallest


def _run_train(train, *args, **kwargs):
    """Call the student's train; returns (result, exception raised or None). Warnings become failures.

    Any exception counts as "stopped" (that is how a failed gradient check ends training). An exception raised in the
    kernel while a judge runs this check arrives as a RemoteError carrying the original type's name in ``etype``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return train(*args, **kwargs), None
    except Exception as e:  # noqa: BLE001
        etype = getattr(e, "etype", type(e).__name__)
        if etype == "NotImplementedError":
            raise AssertionError("`train` is not implemented yet: replace `raise NotImplementedError()` with your "
                                 "code.") from None
        if etype in ("RuntimeWarning", "FloatingPointError"):
            raise AssertionError(f"`train` raised a numerical warning: {e}.") from None
        e.etype_name = etype
        return None, e


def check_train(train) -> None:
    def one(case: Case) -> None:
        steps = 12
        for _ in range(1000):
            act = ["sigmoid", "tanh"][case.integer(0, 1)]
            sizes = [case.integer(2, 4), case.integer(2, 5), case.integer(1, 3)]
            m = case.integer(3, 8)
            lr = float(case.rng.uniform(0.05, 0.3))
            net = _network(case, sizes, m, act, min_norm=2e-2)
            if net is None:
                continue
            Ws, bs, X, Y = net
            ref_W, ref_b, ref_c, smallest = _reference_training(_cost_fn(act), _backprop_fn(act), Ws, bs, X, Y, lr,
                                                                steps)
            # every gradient block stays large at every step, so a correct checker never raises a false alarm
            # (a single bias's gradient crossing zero would make its relative error meaningless)
            if smallest > 1e-2:
                break
        where = f"layer sizes {'-'.join(map(str, sizes))}, {act}, lr {lr:.3f}; {case}"
        saved = [W.copy() for W in Ws] + [b.copy() for b in bs]
        for check_every in (0, 4):
            out, err = _run_train(train, _cost_fn(act), _backprop_fn(act), Ws, bs, X.copy(), Y.copy(),
                                  lr=lr, steps=steps, check_every=check_every)
            if err is not None:
                raise AssertionError(f"train(..., check_every={check_every}) with a CORRECT backprop raised "
                                     f"{err.etype_name}: {err} ({where})")
            if not (isinstance(out, tuple) and len(out) == 3):
                raise AssertionError("train should return (Ws, bs, costs).")
            W_got, b_got, costs = out
            if len(costs) != steps:
                raise AssertionError(f"train should record one cost per step: {steps} steps, {len(costs)} costs.")
            for l in range(len(Ws)):
                compare(f"W^{l + 1} after {steps} steps", W_got[l], ref_W[l], case, tol=1e-9)
                compare(f"b^{l + 1} after {steps} steps", b_got[l], ref_b[l], case, tol=1e-9)
            compare("the recorded costs", np.ravel(np.asarray(costs, dtype=np.float64)), ref_c, case, tol=1e-9)
        if not all(np.array_equal(a, b) for a, b in zip(Ws + bs, saved)):
            raise AssertionError("train changed the arrays it was given: start from copies.")
        buggy = _backprop_fn(act, "no_fprime_output")
        _, err = _run_train(train, _cost_fn(act), buggy, Ws, bs, X.copy(), Y.copy(), lr=lr, steps=steps,
                            check_every=4)
        if err is None:
            raise AssertionError(f"with check_every=4 and a WRONG backprop (f'(z^L) missing), train should stop with "
                                 f"an error at the first check, but it trained on. ({where})")
        _, err = _run_train(train, _cost_fn(act), buggy, Ws, bs, X.copy(), Y.copy(), lr=lr, steps=steps,
                            check_every=0)
        if err is not None:
            raise AssertionError(f"with check_every=0 train must not check anything (it raised {err.etype_name}: "
                                 f"{err}). ({where})")
    repeat(one, times=3)


# ---------------------------------------------------------------- for the demo class and the pipeline tests

#: The classic slip in a hand-written checker: dividing by eps instead of 2 eps in the central difference.
DEMO_BUG = {
    "cell": "numgrad",
    "old": "g[idx] = (f_plus - f_minus) / (2 * eps)",
    "new": "g[idx] = (f_plus - f_minus) / eps",
    "loses": ["test_numerical_gradient", "test_eps_sweep", "test_gradient_check", "test_planted_bugs", "test_train"],
    "says": "factor of 2",
}

BROKEN_PART = {
    "cells": ["timing"],
    "loses": ["test_timing_table", "test_growth_exponent"],
}


#: ben's written answer in the demo class: plausible, and worth partial credit by the rubric.
DEMO_WRITTEN = {
    "written_read_the_check": (
        "The bug is in layer 1, since that is the only number that is large. The check should be switched off"
        " because it is slow."
    ),
}


remote_checks(globals())
