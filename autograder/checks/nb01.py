"""Hidden-test checks for notebook 01, the chain rule on one neuron.

Each ``check_*`` draws fresh random cases, runs the student's function on them, and compares with complex-step
derivatives of the reference forward pass (``autograder.reference``), exact to a few ulps (see ``numgrad``), so the
1e-6 tolerance is about 1e9 times the reference's own error. It raises AssertionError with a diagnosis, or returns None.
"""
from __future__ import annotations

import numpy as np

from ..reference import neurons as ref
from .numgrad import complex_step_derivative, complex_step_gradient
from ._core import Case, call, check_scalar, compare, compare_group, mapping, remote_checks, repeat

# ---------------------------------------------------------------- Part A: sigmoid and its derivative


def check_sigmoid(sigmoid) -> None:
    """Values on random arrays, exact at 0, saturating without overflow warnings at +-1000."""
    def one(case: Case) -> None:
        z = case.normal(case.integer(1, 7), case.integer(1, 5), scale=4.0)
        compare("sigmoid(z)", call("sigmoid", sigmoid, z), ref.sigmoid(z), case, tol=1e-12)
    repeat(one)
    extreme = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    compare("sigmoid at z = [-1000, -50, 0, 50, 1000]", call("sigmoid", sigmoid, extreme), ref.sigmoid(extreme), tol=1e-12)


def check_sigmoid_prime(sigmoid_prime) -> None:
    """sigma'(z) against the complex-step derivative of the reference sigma, including far in the tails."""
    def one(case: Case) -> None:
        z = case.normal(case.integer(1, 9), scale=3.0)
        compare("sigmoid_prime(z)", call("sigmoid_prime", sigmoid_prime, z),
                complex_step_derivative(ref.sigmoid, z), case)
    repeat(one)
    extreme = np.array([-1000.0, 0.0, 1000.0])
    got = call("sigmoid_prime", sigmoid_prime, extreme)
    compare("sigmoid_prime at z = [-1000, 0, 1000]", got, [0.0, 0.25, 0.0], tol=1e-12)


# ---------------------------------------------------------------- Part B: one neuron


def _neuron_case(case: Case):
    n = case.integer(1, 6)
    a_prev = case.normal(n)
    w = case.normal(n)
    b = float(case.nonzero(1)[0])
    y = float(case.rng.uniform(0.0, 1.0))
    return a_prev, w, b, y


def check_neuron_forward(neuron_forward) -> None:
    def one(case: Case) -> None:
        a_prev, w, b, _ = _neuron_case(case)
        out = call("neuron_forward", neuron_forward, a_prev, w, b)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError("neuron_forward should return a tuple (z, a).")
        z_ref = float(np.dot(a_prev, w) + b)
        compare("z", check_scalar("z", out[0]), z_ref, case, tol=1e-12)
        compare("a", check_scalar("a", out[1]), ref.sigmoid(z_ref), case, tol=1e-12)
    repeat(one)


def check_chain_factors(chain_factors) -> None:
    """The three factors dz/dw, da/dz, dC/da, each against its own numerical slope."""
    def one(case: Case) -> None:
        a_prev, w, b, y = _neuron_case(case)
        out = call("chain_factors", chain_factors, a_prev, w, b, y)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise AssertionError("chain_factors should return a tuple (dz_dw, da_dz, dC_da).")
        z = float(np.dot(a_prev, w) + b)
        a = float(ref.sigmoid(z))
        dz_dw = complex_step_gradient(lambda ww: np.dot(a_prev, ww) + b, w)
        da_dz = float(complex_step_derivative(ref.sigmoid, np.array(z)))
        dC_da = float(complex_step_derivative(lambda aa: (y - aa) ** 2, np.array(a)))
        compare("dz_dw", out[0], dz_dw, case)
        compare("da_dz", check_scalar("da_dz", out[1]), da_dz, case)
        compare("dC_da", check_scalar("dC_da", out[2]), dC_da, case)
    repeat(one)


def _neuron_gradient(neuron_gradients, key: str, label: str) -> None:
    def one(case: Case) -> None:
        a_prev, w, b, y = _neuron_case(case)
        grads = mapping("neuron_gradients(...)", call("neuron_gradients", neuron_gradients, a_prev, w, b, y),
                        ["w", "b", "a_prev"])
        if key == "w":
            want = complex_step_gradient(lambda ww: ref.neuron_cost(a_prev, ww, b, y), w)
        elif key == "a_prev":
            want = complex_step_gradient(lambda aa: ref.neuron_cost(aa, w, b, y), a_prev)
        else:
            want = float(complex_step_gradient(lambda bb: ref.neuron_cost(a_prev, w, bb[0], y), np.array([b]))[0])
            grads = dict(grads, b=check_scalar(label, grads["b"]))
        compare(label, grads[key], want, case)
    repeat(one)


def check_dC_dw(neuron_gradients) -> None:
    _neuron_gradient(neuron_gradients, "w", "dC/dw")


def check_dC_db(neuron_gradients) -> None:
    _neuron_gradient(neuron_gradients, "b", "dC/db")


def check_dC_daprev(neuron_gradients) -> None:
    _neuron_gradient(neuron_gradients, "a_prev", "dC/da^{L-1}")


# ---------------------------------------------------------------- Part C: the 2-2-1 network


def _net_case(case: Case):
    p = {k: float(case.normal(1)[0]) for k in ref.NET221_WEIGHTS}
    p.update({k: float(case.nonzero(1)[0]) for k in ref.NET221_BIASES})
    x = case.normal(2, scale=2.0)
    y = float(case.rng.integers(0, 2))
    return p, x, y


def _net_numerical(p, x, y, key):
    def loss_of(v):
        q = dict(p)
        q[key] = v[0]
        return ref.net221_loss(q, x, y)
    return float(complex_step_gradient(loss_of, np.array([p[key]]))[0])


def check_forward_221(forward_221) -> None:
    def one(case: Case) -> None:
        p, x, _ = _net_case(case)
        out = mapping("forward_221(...)", call("forward_221", forward_221, dict(p), x.copy()), ["h1", "h2", "o1"])
        want = ref.net221_forward(p, x)
        for k in ("h1", "h2", "o1"):
            compare(k, check_scalar(k, out[k]), want[k], case, tol=1e-12)
    repeat(one)


def _check_backprop_221(backprop_221, keys) -> None:
    def one(case: Case) -> None:
        p, x, y = _net_case(case)
        grads = mapping("backprop_221(...)", call("backprop_221", backprop_221, dict(p), x.copy(), y), list(keys))
        want = {k: _net_numerical(p, x, y, k) for k in keys}
        compare_group(f"dL/d({', '.join(keys)})", list(keys), grads, want, case)
    repeat(one)


def check_backprop_221_weights(backprop_221) -> None:
    _check_backprop_221(backprop_221, ref.NET221_WEIGHTS)


def check_backprop_221_biases(backprop_221) -> None:
    _check_backprop_221(backprop_221, ref.NET221_BIASES)


# ---------------------------------------------------------------- Part D: spot the slip


def check_slope(slope) -> None:
    """A central-difference slope of scalar functions the student has never seen."""
    def one(case: Case) -> None:
        a, b, x0 = (float(v) for v in case.normal(3))
        fns = [(lambda x: a * x ** 3 + b * x, lambda x: 3 * a * x ** 2 + b),
               (lambda x: np.sin(a * x) + b, lambda x: a * np.cos(a * x)),
               (lambda x: np.exp(0.5 * a * x), lambda x: 0.5 * a * np.exp(0.5 * a * x))]
        for f, df in fns:
            got = check_scalar("slope(f, x)", call("slope", slope, f, x0))
            compare("slope(f, x)", got, df(x0), case, tol=1e-6)
    repeat(one)


def check_fixed_formulas(prediction, dL_dypred) -> None:
    def one(case: Case) -> None:
        z = case.normal(5, scale=3.0)
        compare("prediction(z)", call("prediction", prediction, z), ref.sigmoid(z), case, tol=1e-12)
        ypred = case.rng.uniform(0.01, 0.99, size=5)
        want = complex_step_derivative(lambda yp: (1.0 - yp) ** 2, ypred)
        compare("dL_dypred(ypred)", call("dL_dypred", dL_dypred, ypred), want, case)
    repeat(one)


#: Which of the five printed formulas are wrong (see the notebook's table). Three are slips, two are right.
WRONG_FORMULAS = frozenset({"A", "B", "C"})


def check_wrong_formulas(wrong_formulas) -> None:
    if not isinstance(wrong_formulas, (set, frozenset, list, tuple)):
        raise AssertionError("wrong_formulas should be a set of letters, such as {'A', 'E'}.")
    chosen = {str(x).strip().upper() for x in wrong_formulas}
    if chosen == WRONG_FORMULAS:
        return
    missed = sorted(WRONG_FORMULAS - chosen)
    extra = sorted(chosen - WRONG_FORMULAS)
    parts = []
    if missed:
        parts.append(f"{len(missed)} wrong formula(s) not flagged")
    if extra:
        parts.append(f"{len(extra)} correct formula(s) flagged as wrong")
    raise AssertionError("wrong_formulas is not right: " + " and ".join(parts)
                         + ". Test each formula against `slope` rather than by eye.")


# ---------------------------------------------------------------- Part E: training


def check_sgd_step(sgd_step) -> None:
    def one(case: Case) -> None:
        p, _, _ = _net_case(case)
        g = {k: float(v) for k, v in zip(ref.NET221_KEYS, case.normal(9))}
        eta = float(case.rng.uniform(0.01, 1.0))
        new = mapping("sgd_step(...)", call("sgd_step", sgd_step, dict(p), dict(g), eta), list(ref.NET221_KEYS))
        for k in ref.NET221_KEYS:
            compare(f"new {k}", check_scalar(k, new[k]), p[k] - eta * g[k], case, tol=1e-12)
    repeat(one)


#: Seed 001's four people, weight and height shifted by their means (135 lb, 66 in); 1 means female.
PEOPLE_X = np.array([[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]])
PEOPLE_Y = np.array([1.0, 0.0, 0.0, 1.0])


def _reference_epoch(params: dict, X, Y, eta: float) -> dict:
    """One epoch of the notebook's SGD from ``params``: the examples in order, one step p - eta * dL/dp on each, with
    the gradients taken by complex step of the reference loss (exact to a few ulps, never the student's backprop)."""
    p = dict(params)
    for x, y in zip(X, Y):
        g = {k: _net_numerical(p, x, y, k) for k in ref.NET221_KEYS}
        p = {k: p[k] - eta * g[k] for k in ref.NET221_KEYS}
    return p


def _trained(train_221, eta, epochs, seed):
    out = call("train_221", train_221, PEOPLE_X.copy(), PEOPLE_Y.copy(), eta=eta, epochs=epochs, seed=seed)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError("train_221 should return (params, losses).")
    params, losses = out
    params = mapping("the trained params", params, list(ref.NET221_KEYS))
    params = {k: check_scalar(k, params[k]) for k in ref.NET221_KEYS}
    losses = np.asarray(losses, dtype=np.float64).ravel()
    if losses.size != epochs:
        raise AssertionError(f"train_221 should record one loss per epoch: {epochs} epochs, but {losses.size} losses.")
    return params, losses


def check_train_221(train_221) -> None:
    """The student's training is judged by its update rule, never by where a random start happens to end up.

    With a fresh seed s, learning rate eta and epoch count K (one Case): train for K epochs and for K + 1 epochs from
    the same seed. The same seed must give the same start, so the (K+1)-epoch run must be the K-epoch run plus one
    epoch: its first K losses equal, and its final params equal ONE reference epoch (examples in order, one step
    p - eta dL/dp each, exact gradients) applied to the K-epoch params; every recorded loss must be the data set's mean
    squared error of the params at that point (checked for the returned ones). This holds for every start, so a
    correct trainer fails with probability 0 (the only error is rounding: 4 steps of gradients that agree to ~1e-15,
    against a 1e-9 tolerance), while a wrong sign, a wrong eta, a full-batch step or examples out of order change the
    epoch by far more than 1e-9 (the old criterion "MSE < 0.02 after 1000 epochs" failed correct code from an
    unlucky start about once in 1,000 runs).
    """
    case = Case()
    seed = int(case.rng.integers(0, 2**31))
    eta = float(case.rng.uniform(0.05, 0.5))
    K = case.integer(1, 30)
    where = f"eta = {eta:.3g}, training seed {seed}, {K} and {K + 1} epochs; {case}"
    pK, lK = _trained(train_221, eta, K, seed)
    pK1, lK1 = _trained(train_221, eta, K + 1, seed)
    if not np.allclose(lK1[:K], lK, rtol=1e-9, atol=1e-12):
        raise AssertionError(f"train_221 with the same seed should start from the same params: the first {K} losses "
                             f"of a {K + 1}-epoch run differ from those of a {K}-epoch run. Draw the start from "
                             f"np.random.default_rng(seed). ({where})")
    want = _reference_epoch(pK, PEOPLE_X, PEOPLE_Y, eta)
    got = np.array([pK1[k] for k in ref.NET221_KEYS])
    try:
        compare(f"the params one epoch later (eta = {eta:.3g})", got, np.array([want[k] for k in ref.NET221_KEYS]),
                case, tol=1e-9)
    except AssertionError as e:
        raise AssertionError(f"One epoch of train_221 is not one SGD step w <- w - eta * dL/dw per example, in order. "
                             f"Check the sign of the update: w <- w - eta * dL/dw, and that eta is used. "
                             f"{str(e).replace('against the numerical gradient', 'against one reference epoch')} "
                             f"({where})") from None
    for params, losses in ((pK, lK), (pK1, lK1)):
        final = ref.net221_mse(params, PEOPLE_X, PEOPLE_Y)
        if abs(losses[-1] - final) > 1e-9 * max(1.0, final):
            raise AssertionError(f"The last recorded loss {losses[-1]:.6g} is not the mean squared error of the "
                                 f"returned params ({final:.6g}). ({where})")


# ---------------------------------------------------------------- for the demo class and the pipeline tests

#: A typical backprop bug planted in one solution cell: the demo class's buggy student has it, and the pipeline test
#: checks that exactly the ``loses`` test cells fail and that the feedback ``says`` what the bug is.
DEMO_BUG = {
    "cell": "net221",
    "old": "dL_do1 = -2.0 * (y - o1)",
    "new": "dL_do1 = 2.0 * (y - o1)",
    "loses": ["test_backprop_221_weights", "test_backprop_221_biases", "test_train_221"],
    "says": "sign error",
}

#: A whole part left blank (its solution cells back to the release stub): exactly its own test cells lose points.
BROKEN_PART = {
    "cells": ["slope", "fixed_formulas", "wrong_formulas"],
    "loses": ["test_slope", "test_fixed_formulas", "test_wrong_formulas"],
}


#: ben's written answer in the demo class: plausible, and worth partial credit by the rubric.
DEMO_WRITTEN = {
    "written_saturation": (
        "The gradient is small because sigma'(z) is close to zero at z = -8, so the neuron learns slowly."
    ),
}


remote_checks(globals())
