"""Notebook 01's hidden checks: the reference answers pass, and typical wrong answers fail with the right diagnosis.

The "student" functions here are written independently of autograder.reference (plain math), so a check that
compared the reference with itself could not pass them all.
"""
import math

import numpy as np
import pytest

from autograder.checks import nb01


def sig(z):
    z = np.asarray(z, dtype=float)
    return np.where(z >= 0, 1 / (1 + np.exp(-np.clip(z, 0, None))), np.exp(np.clip(z, None, 0)) / (1 + np.exp(np.clip(z, None, 0))))


def sig_prime(z):
    return sig(z) * (1 - sig(z))


def good_backprop(p, x, y, sign=1.0, output_slope=True):
    h1 = sig(p["w1"] * x[0] + p["w2"] * x[1] + p["b1"])
    h2 = sig(p["w3"] * x[0] + p["w4"] * x[1] + p["b2"])
    o = sig(p["w5"] * h1 + p["w6"] * h2 + p["b3"])
    d_o = sign * 2 * (o - y) * (o * (1 - o) if output_slope else 1.0)
    d1 = d_o * p["w5"] * h1 * (1 - h1)
    d2 = d_o * p["w6"] * h2 * (1 - h2)
    return {"w1": d1 * x[0], "w2": d1 * x[1], "b1": d1, "w3": d2 * x[0], "w4": d2 * x[1], "b2": d2,
            "w5": d_o * h1, "w6": d_o * h2, "b3": d_o}


def test_correct_answers_pass_100_of_100_draws():
    """Each check draws 5 fresh cases per call: 100 calls, 500 random networks, no flake allowed."""
    for _ in range(100):
        nb01.check_sigmoid(sig)
        nb01.check_sigmoid_prime(sig_prime)
        nb01.check_backprop_221_weights(good_backprop)
        nb01.check_backprop_221_biases(good_backprop)
        nb01.check_slope(lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / (2 * h))


def test_overflowing_sigmoid_is_named():
    naive = lambda z: 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
    with pytest.raises(AssertionError, match="numerical warning"):
        nb01.check_sigmoid(naive)


def test_seed_000_sigmoid_slip_fails():
    with pytest.raises(AssertionError, match="sigmoid"):
        nb01.check_sigmoid(lambda z: sig(-np.asarray(z, dtype=float)))


def test_sign_error_is_diagnosed():
    with pytest.raises(AssertionError, match="sign error"):
        nb01.check_backprop_221_weights(lambda p, x, y: good_backprop(p, x, y, sign=-1.0))


def test_factor_two_is_diagnosed():
    with pytest.raises(AssertionError, match="factor of 2"):
        nb01.check_backprop_221_biases(lambda p, x, y: {k: 2 * v for k, v in good_backprop(p, x, y).items()})


def test_missing_output_slope_fails():
    with pytest.raises(AssertionError, match="is wrong"):
        nb01.check_backprop_221_weights(lambda p, x, y: good_backprop(p, x, y, output_slope=False))


def test_hard_coded_worked_example_fails():
    """The visible example's numbers returned for every input: the randomized hidden check must fail it."""
    fixed = {"w1": 0.0214695, "w2": 0.0107348, "w3": 0.0214695, "w4": 0.0107348, "w5": -0.0112692, "w6": -0.0112692,
             "b1": -0.0107348, "b2": -0.0107348, "b3": -0.2376176}
    with pytest.raises(AssertionError):
        nb01.check_backprop_221_weights(lambda p, x, y: dict(fixed))


def test_one_sided_slope_fails():
    with pytest.raises(AssertionError):
        nb01.check_slope(lambda f, x, h=1e-5: (f(x + h) - f(x)) / h)


def test_wrong_formula_sets():
    nb01.check_wrong_formulas({"A", "B", "C"})
    nb01.check_wrong_formulas(["a", "b", "c"])
    for bad in [{"A", "C"}, {"A", "B", "C", "D"}, set(), "ABC"]:
        with pytest.raises(AssertionError):
            nb01.check_wrong_formulas(bad)


def test_seed_001_loss_slip_fails():
    with pytest.raises(AssertionError, match="dL_dypred"):
        nb01.check_fixed_formulas(sig, lambda yp: -2 * (1 - np.asarray(yp)) ** 2)


def test_training_with_wrong_update_sign_fails():
    def train(X, y, eta=0.1, epochs=1000, seed=0):
        rng = np.random.default_rng(seed)
        p = {k: float(rng.normal()) for k in ["w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"]}
        losses = []
        for _ in range(epochs):
            for xi, yi in zip(X, y):
                g = good_backprop(p, xi, yi)
                p = {k: p[k] + eta * g[k] for k in p}
            losses.append(float(np.mean([(yi - sig(p["w5"] * sig(p["w1"] * xi[0] + p["w2"] * xi[1] + p["b1"])
                                             + p["w6"] * sig(p["w3"] * xi[0] + p["w4"] * xi[1] + p["b2"]) + p["b3"])) ** 2
                                         for xi, yi in zip(X, y)])))
        return p, losses
    with pytest.raises(AssertionError, match="sign of the update"):
        nb01.check_train_221(train)


def test_worked_example_value_independently():
    """The number the notebook quotes, 0.0214695, from plain math central differences (no numpy, no course code)."""
    s = lambda v: 1 / (1 + math.exp(-v))
    def loss(w1):
        h1, h2 = s(w1 * -2 - 1), s(-3)
        return (1 - s(h1 + h2)) ** 2
    h = 1e-6
    assert abs((loss(1 + h) - loss(1 - h)) / (2 * h) - 0.0214695) < 5e-8


def _trainer(update):
    """A 2-2-1 trainer as the notebook specifies it, with ``update(p, g, eta, X, y)`` giving one epoch's steps."""
    from autograder.reference import neurons as ref

    def train(X, y, eta=0.1, epochs=1000, seed=0):
        rng = np.random.default_rng(seed)
        p = {k: float(rng.normal()) for k in ref.NET221_KEYS}
        losses = []
        for _ in range(epochs):
            p = update(p, eta, X, y)
            losses.append(ref.net221_mse(p, X, y))
        return p, losses
    return train


def _sgd(p, eta, X, y, rate=None):
    for xi, yi in zip(X, y):
        g = good_backprop(p, xi, yi)
        p = {k: p[k] - (eta if rate is None else rate) * g[k] for k in p}
    return p


def _full_batch(p, eta, X, y):
    gs = [good_backprop(p, xi, yi) for xi, yi in zip(X, y)]
    return {k: p[k] - eta * np.mean([g[k] for g in gs]) for k in p}


@pytest.mark.parametrize("update", [lambda p, e, X, y: _sgd(p, e, X, y, rate=0.1), _full_batch,
                                    lambda p, e, X, y: _sgd(p, e, X[::-1], y[::-1])],
                         ids=["eta ignored", "full batch", "examples reversed"])
def test_training_with_a_wrong_update_rule_fails(update):
    with pytest.raises(AssertionError, match="not one SGD step"):
        nb01.check_train_221(_trainer(update))


def test_training_by_the_spec_passes_whatever_the_start():
    for _ in range(20):
        nb01.check_train_221(_trainer(_sgd))
