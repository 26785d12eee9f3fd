"""Hidden-test checks for notebook 04, random initialization.

Initializations are checked on fresh seeds: shapes, that the units start different (one value or one row copied
everywhere is named as the unbroken symmetry before any range is looked at), ranges, the epsilon formula, the variances
of the Xavier and He rules (bands derived from tail bounds so that a right answer fails with probability below 1e-9 per
check, see ``_bands``, yet tight enough to tell the rules apart), and that the weights come from the rng the function
is given. Parts C and D (activations, the variance a layer passes on, the spot-the-slip backprop for any activation)
live in ``nb04_deep`` and are routed here under nb04's name.
"""
from __future__ import annotations

import numpy as np

from ._core import Case, as_float_array, call, check_scalar, remote_checks, repeat
from .nb04_deep import (check_act_and_slope, check_backprop_act_biases, check_backprop_act_weights,  # noqa: F401
                       check_next_z_variance, check_z_stds)


def _params(name, out, sizes):
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise AssertionError(f"{name} should return (Ws, bs), two lists.")
    Ws, bs = out
    if not (isinstance(Ws, (list, tuple)) and isinstance(bs, (list, tuple))):
        raise AssertionError(f"{name} should return (Ws, bs), two lists.")
    if len(Ws) != len(sizes) - 1 or len(bs) != len(sizes) - 1:
        raise AssertionError(f"sizes {sizes} describe {len(sizes) - 1} layers: {name} returned {len(Ws)} weight "
                             f"matrices and {len(bs)} biases.")
    Ws = [as_float_array(f"Ws[{l}]", W) for l, W in enumerate(Ws)]
    bs = [as_float_array(f"bs[{l}]", b) for l, b in enumerate(bs)]
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if Ws[l].shape != (n_out, n_in):
            hint = " (the transpose: W^{l+1} has one row per unit of the next layer)" if Ws[l].shape == (n_in, n_out) else ""
            raise AssertionError(f"sizes {sizes}: Ws[{l}] should have shape {(n_out, n_in)}, got {Ws[l].shape}{hint}.")
        if bs[l].shape != (n_out, 1):
            raise AssertionError(f"sizes {sizes}: bs[{l}] should be a column of shape {(n_out, 1)}, got {bs[l].shape}.")
        if np.any(bs[l] != 0):
            raise AssertionError(f"{name}: the biases should start at zero (the weights alone break the symmetry).")
    return Ws, bs


def _sizes(case: Case):
    return [case.integer(1, 9) for _ in range(case.integer(2, 4))]


# ---------------------------------------------------------------- Part A


def check_init_constant(init_constant) -> None:
    def one(case: Case) -> None:
        sizes = _sizes(case)
        value = float(case.normal(1)[0])
        Ws, _ = _params("init_constant", call("init_constant", init_constant, list(sizes), value), sizes)
        for l, W in enumerate(Ws):
            if not np.all(W == value):
                raise AssertionError(f"init_constant(sizes, {value:.4g}): every weight should equal {value:.4g}; "
                                     f"Ws[{l}] has values from {W.min():.4g} to {W.max():.4g}. ({case})")
    repeat(one)


def _spread(W):
    return float(np.max(W.max(axis=0) - W.min(axis=0)))


def check_unit_spread(unit_spread) -> None:
    def one(case: Case) -> None:
        n_units, n_in = case.integer(2, 8), case.integer(1, 7)
        W = case.normal(n_units, n_in)
        got = check_scalar("unit_spread(W)", call("unit_spread", unit_spread, W.copy()))
        if abs(got - _spread(W)) > 1e-12:
            raise AssertionError(f"unit_spread of a random {W.shape} matrix should be {_spread(W):.6g}, got {got:.6g}: "
                                 f"for each input (column) take the largest minus the smallest weight over the units "
                                 f"(rows), then the largest of those. ({case})")
        row = case.normal(n_in)
        same = np.tile(row, (n_units, 1))
        got = check_scalar("unit_spread(W)", call("unit_spread", unit_spread, same))
        if got != 0.0:
            raise AssertionError(f"when every unit has the same weights the spread is exactly 0, got {got}. ({case})")
        W2 = same.copy()
        j, k = case.integer(0, n_units - 1), case.integer(0, n_in - 1)
        W2[j, k] += 0.25
        got = check_scalar("unit_spread(W)", call("unit_spread", unit_spread, W2))
        if abs(got - 0.25) > 1e-12:
            raise AssertionError(f"identical units except one weight moved by 0.25 should give a spread of 0.25, got "
                                 f"{got}. ({case})")
    repeat(one)


# ---------------------------------------------------------------- Part B


def _seed(case: Case) -> int:
    """Hidden tests pass integer seeds (a Generator cannot travel to the judge); np.random.default_rng(seed) in the
    student's function turns a seed or a Generator into a Generator."""
    return int(case.rng.integers(0, 2**31))


def _rng_use(name, fn, sizes):
    a = call(name, fn, list(sizes), 123)[0][0]
    b = call(name, fn, list(sizes), 123)[0][0]
    c = call(name, fn, list(sizes), 456)[0][0]
    if not np.array_equal(np.asarray(a), np.asarray(b)):
        raise AssertionError(f"{name} gives different weights for the same seed: start with "
                             "rng = np.random.default_rng(rng) and draw from that rng, not from np.random.")
    if np.array_equal(np.asarray(a), np.asarray(c)):
        raise AssertionError(f"{name} gives the same weights for different seeds: draw them from the rng argument.")


def _big_sizes(case: Case):
    """Two layers big enough for tight statistics, with n_in far from n_out so the rules differ."""
    n0 = case.integer(250, 400)
    n1 = case.integer(40, 90)
    n2 = case.integer(150, 300)
    return [n0, n1, n2]


#: False-reject budget of each statistical test on one layer. A check runs at most 24 of them (3 cases x 2 layers x
#: mean, variance, tails, range), so a correct initialization fails a check with probability below 24 * P_LAYER
#: = 2.4e-11 (union bound), under the 1e-9 the course allows.
P_LAYER = 1e-12


def _bands(kind: str, n: int) -> tuple[float, float, float]:
    """(mean band in units of the weights' standard deviation, lowest and highest accepted variance ratio) for n iid
    weights, each band exceeded by a correct initialization with probability at most P_LAYER.

    normal, W = sigma Z: the mean is N(0, sigma^2 / n), and P(|Z| > t) <= 2 exp(-t^2 / 2) gives t = sqrt(2 x / n) with
    x = ln(2 / P). S = sum W^2 / sigma^2 is chi-square with n degrees of freedom, and Laurent & Massart (2000, Lemma 1)
    bound P(S >= n + 2 sqrt(n x) + 2 x) <= e^-x and P(S <= n - 2 sqrt(n x)) <= e^-x; with x = ln(2 / P) the two tails
    together stay below P.
    uniform on [-e, e], W = e U: U lies in [-1, 1], so Hoeffding gives P(|mean U| >= t) <= 2 exp(-n t^2 / 2), and the
    band in units of the standard deviation e / sqrt(3) is sqrt(3) t. U^2 lies in [0, 1] with mean 1/3, variance 4/45
    and |U^2 - 1/3| <= 2/3, so Bernstein's inequality P(|mean U^2 - 1/3| >= t) <= 2 exp(-n t^2 / (2 (4/45) + 2 (2/3) t / 3))
    is at most P for the t solving n t^2 = x (8/45 + 4 t / 9), x = ln(2 / P); the variance ratio band is 1 -+ 3 t.
    """
    x = float(np.log(2.0 / P_LAYER))
    if kind == "normal":
        return float(np.sqrt(2 * x / n)), 1.0 - 2.0 * np.sqrt(x / n), 1.0 + 2.0 * np.sqrt(x / n) + 2.0 * x / n
    b = 4.0 * x / 9.0
    t = (b + np.sqrt(b * b + 4.0 * n * x * 8.0 / 45.0)) / (2.0 * n)
    return float(np.sqrt(3.0) * np.sqrt(2 * x / n)), 1.0 - 3.0 * t, 1.0 + 3.0 * t


def _check_variance(name, W, want_var, n_in, n_out, case, others, kind="normal"):
    """Mean and variance of one layer against the rule, in bands a correct rule leaves with probability <= 2 P_LAYER
    (see ``_bands``). On 6,000+ weights they are at most ~14% wide; every wrong rule the hints name is further off on
    at least one of the two layers of ``_big_sizes``."""
    n = W.size
    mean_band, low, high = _bands(kind, n)
    got_var = float(np.mean(W * W))
    if abs(float(np.mean(W))) > mean_band * np.sqrt(want_var):
        raise AssertionError(f"{name}: the weights of a {n_out} x {n_in} layer should average 0, but average "
                             f"{np.mean(W):.3g}. ({case})")
    if not low <= got_var / want_var <= high:
        which = next((label for label, v in others if low <= got_var / v <= high), None)
        hint = f" That is the variance of {which}." if which else ""
        raise AssertionError(f"{name}: for a layer with n_in = {n_in}, n_out = {n_out} the weights should have "
                             f"variance {want_var:.4g}, but theirs is {got_var:.4g}.{hint} ({case})")


def _symmetry_broken(name, Ws, case) -> None:
    """Each layer's units must start different. One number copied to every weight, or one row copied to every unit, is
    the symmetry of Part A whatever its scale, so it is named before any check of the range or the variance (a random
    draw repeats a value with probability 0, so this never rejects a right answer)."""
    for l, W in enumerate(Ws):
        if W.size > 1 and np.all(W == W.flat[0]):
            raise AssertionError(f"{name}: all {W.size} weights of Ws[{l}] have the same value, {W.flat[0]:.4g}: one "
                                 "number was drawn and copied, so the units start as copies of one another and stay "
                                 "so (Part A: the symmetry is not broken). Draw a separate value for every weight, "
                                 f"size=(n_out, n_in). ({case})")
        if W.shape[0] > 1 and np.all(W == W[:1]):
            raise AssertionError(f"{name}: the {W.shape[0]} rows of Ws[{l}], one per unit, are identical, so the units "
                                 "start as copies of one another and stay so (Part A: the symmetry is not broken). "
                                 f"Draw every weight on its own, size=(n_out, n_in), not one row for all. ({case})")


def check_init_uniform(init_uniform) -> None:
    def one(case: Case, big: bool) -> None:
        sizes = _big_sizes(case) if big else _sizes(case)
        Ws, _ = _params("init_uniform", call("init_uniform", init_uniform, list(sizes), _seed(case)), sizes)
        _symmetry_broken("init_uniform", Ws, case)
        for W, n_in, n_out in zip(Ws, sizes[:-1], sizes[1:]):
            eps = np.sqrt(6.0) / np.sqrt(n_in + n_out)
            if np.max(np.abs(W)) > eps * (1 + 1e-12):
                raise AssertionError(f"init_uniform: with n_in = {n_in}, n_out = {n_out}, epsilon = sqrt(6) / "
                                     f"sqrt({n_in + n_out}) = {eps:.4g}, but a weight is {np.max(np.abs(W)):.4g}. "
                                     f"Check the sqrt in epsilon. ({case})")
            if W.size >= 2000:
                if np.max(W) < 0.97 * eps or np.min(W) > -0.97 * eps:
                    raise AssertionError(f"init_uniform: weights should fill [-epsilon, epsilon] = [-{eps:.4g}, "
                                         f"{eps:.4g}], but span [{W.min():.4g}, {W.max():.4g}]: is epsilon too small? "
                                         f"Check the sqrt in epsilon. ({case})")
                # P(max W < 0.97 eps) = 0.985^n <= e^-30 for n >= 2000, and likewise for the min
                _check_variance("init_uniform", W, eps ** 2 / 3, n_in, n_out, case, [], kind="uniform")
    for big in (True, False, True):
        one(Case(), big)
    _rng_use("init_uniform", init_uniform, [5, 4, 3])


def _check_normal_rule(name, fn, rule, label):
    def one(case: Case) -> None:
        sizes = _big_sizes(case)
        Ws, _ = _params(name, call(name, fn, list(sizes), _seed(case)), sizes)
        _symmetry_broken(name, Ws, case)
        for W, n_in, n_out in zip(Ws, sizes[:-1], sizes[1:]):
            others = [("the He rule 2/n_in", 2.0 / n_in), ("the Xavier rule 2/(n_in + n_out)", 2.0 / (n_in + n_out)),
                      ("1/n_in", 1.0 / n_in), ("1/n_out", 1.0 / n_out), ("2/n_out", 2.0 / n_out),
                      ("a standard deviation used as a variance", np.sqrt(rule(n_in, n_out)))]
            others = [(lab, v) for lab, v in others if abs(v / rule(n_in, n_out) - 1) > 0.15]
            _check_variance(name, W, rule(n_in, n_out), n_in, n_out, case, others)
            sd = np.sqrt(rule(n_in, n_out))
            # P(|Z| > 2) = 0.0455; Chernoff: P(fraction <= 0.02) <= exp(-n KL(0.02 || 0.0455)) = exp(-0.0093 n) < 1e-24
            # for n >= 6000. Uniform weights with the same variance have none beyond 1.73 sd.
            if np.mean(np.abs(W) > 2.0 * sd) < 0.02:
                raise AssertionError(f"{name}: {label} draws from a normal distribution; these weights have no tails "
                                     f"(hardly any beyond 2 standard deviations), as if they were uniform. ({case})")
        small = _sizes(case)
        _symmetry_broken(name, _params(name, call(name, fn, list(small), _seed(case)), small)[0], case)
    repeat(one, times=3)
    _rng_use(name, fn, [5, 4, 3])


def check_init_xavier(init_xavier) -> None:
    _check_normal_rule("init_xavier", init_xavier, lambda a, b: 2.0 / (a + b), "Xavier (Glorot) initialization")


def check_init_he(init_he) -> None:
    _check_normal_rule("init_he", init_he, lambda a, b: 2.0 / a, "He initialization")


# ---------------------------------------------------------------- Part D.2


def check_gradient_norms(gradient_norms) -> None:
    def one(case: Case) -> None:
        mats = [case.normal(case.integer(1, 6), case.integer(1, 6), scale=float(10.0 ** case.rng.uniform(-6, 1)))
                for _ in range(case.integer(1, 6))]
        got = as_float_array("gradient_norms(dWs)", call("gradient_norms", gradient_norms, [M.copy() for M in mats]))
        want = np.array([np.sqrt(np.sum(M * M)) for M in mats])
        if got.shape != want.shape:
            raise AssertionError(f"gradient_norms should return one number per layer: shape {want.shape}, got "
                                 f"{got.shape}.")
        if not np.allclose(got, want, rtol=1e-10, atol=0):
            raise AssertionError(f"gradient_norms: expected the Frobenius norms {want}, got {got}: the square root of "
                                 f"the sum of the squared entries of each matrix. ({case})")
    repeat(one)


DEMO_BUG = {
    "cell": "inits",
    "old": "eps = np.sqrt(6.0) / np.sqrt(n_in + n_out)",
    "new": "eps = np.sqrt(6.0) / (n_in + n_out)",
    "loses": ["test_init_uniform"],
    "says": "sqrt",
}

BROKEN_PART = {
    "cells": ["symmetry"],
    "loses": ["test_init_constant", "test_unit_spread"],
}


DEMO_WRITTEN = {
    "written_symmetry": "If all the weights are the same the hidden units all compute the same thing, so they get the "
                        "same gradient. Random weights make them different.",
}


remote_checks(globals())
