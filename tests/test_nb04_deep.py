"""Notebook 04's Parts C and D: a right answer passes every check, and each planted slip fails with its own cause.

The student functions are written here, the buggy way, with a switch per slip (they do not reuse the reference).
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import nb04
from autograder.reference import mlp, variance


def sig(z):
    return mlp.sigmoid(z)


def student_act(z, name, bug=None):
    z = np.asarray(z, dtype=np.float64)
    if name == "sigmoid":
        s = sig(z)
        return s, (z * (1 - z) if bug == "sigmoid_of_z" else s * (1 - s))
    if name == "tanh":
        t = np.tanh(z)
        return t, (1 - z ** 2 if bug == "tanh_of_z" else 1 - t ** 2)
    r = np.maximum(z, 0.0)
    return r, (r if bug == "relu_slope_is_relu" else (z > 0).astype(float))


ACT_BUGS = {"sigmoid_of_z": "apply it to sigma(z)", "tanh_of_z": "not 1 - z^2", "relu_slope_is_relu": "not max(z, 0)"}


def test_act_and_slope_right_passes():
    nb04.check_act_and_slope(student_act)


def _tails(case, name):
    """Every entry 10 to 20 away from 0, where sigmoid's and tanh's slopes are 2e-9 down to 1e-17."""
    shape = (case.integer(1, 4), case.integer(1, 5))
    return case.rng.choice([-1.0, 1.0], size=shape) * case.rng.uniform(10.0, 20.0, size=shape)


def test_act_and_slope_far_in_the_tails_passes(monkeypatch):
    """A false reject that tests/test_false_rejects.py found (1 of 201 runs): z = [-15.2, 11.2], case seed
    2586409513, where tanh's slope is below 1e-9 and 1 - tanh(z)^2, right to within one unit in the last place of 1,
    was 5e-8 off in relative terms against a tolerance of 1e-8. That case, then 300 grids in the tails only."""
    from autograder.checks import _core, nb04_deep

    monkeypatch.setattr(nb04_deep, "repeat", lambda one, times=5: one(_core.Case(2586409513)))
    nb04.check_act_and_slope(student_act)
    monkeypatch.setattr(nb04_deep, "_z_grid", _tails)
    monkeypatch.setattr(nb04_deep, "repeat", lambda one, times=5: [one(_core.Case()) for _ in range(300)])
    nb04.check_act_and_slope(student_act)


@pytest.mark.parametrize("bug", ACT_BUGS)
def test_act_and_slope_slips_are_caught_in_the_tails_too(monkeypatch, bug):
    from autograder.checks import nb04_deep

    monkeypatch.setattr(nb04_deep, "_z_grid", _tails)
    with pytest.raises(AssertionError, match="differs from the numerical slope"):
        nb04.check_act_and_slope(lambda z, name: student_act(z, name, bug))


@pytest.mark.parametrize("bug", ACT_BUGS)
def test_act_and_slope_slips_named(bug):
    with pytest.raises(AssertionError, match=ACT_BUGS[bug].replace("(", r"\(").replace(")", r"\)").replace("^", r"\^")):
        nb04.check_act_and_slope(lambda z, name: student_act(z, name, bug))


def student_var(var_z, n_in, var_w, name, bug=None):
    second = {"relu": var_z / 2, "tanh": var_z, "sigmoid": 0.25 + var_z / 16}[name]
    if bug == "relu_no_half" and name == "relu":
        second = var_z
    if bug == "sigmoid_no_mean" and name == "sigmoid":
        second = var_z / 16
    if bug == "sigmoid_slope_unsquared" and name == "sigmoid":
        second = 0.25 + var_z / 4
    if bug == "no_n_in":
        return var_w * second
    return n_in * var_w * second


VAR_BUGS = {"relu_no_half": "E\\[a\\^2\\] = Var\\(z\\) / 2", "sigmoid_no_mean": "square of that mean",
            "sigmoid_slope_unsquared": "enters squared", "no_n_in": "multiply by n_in"}


def test_next_z_variance_right_passes():
    nb04.check_next_z_variance(student_var)
    nb04.check_next_z_variance(variance.next_z_variance)


@pytest.mark.parametrize("bug", VAR_BUGS)
def test_next_z_variance_slips_named(bug):
    with pytest.raises(AssertionError, match=VAR_BUGS[bug]):
        nb04.check_next_z_variance(lambda *a: student_var(*a, bug=bug))


def student_z_stds(Ws, bs, X, name, bug=None):
    a, out = X, []
    for W, b in zip(Ws, bs):
        z = W @ a + b
        a = student_act(z, name)[0]
        out.append(np.std(a) if bug == "acts" else np.var(z) if bug == "var" else np.std(z))
    return np.array(out)


STD_BUGS = {"acts": "spreads of the activations", "var": "these are variances"}


def test_z_stds_right_passes():
    nb04.check_z_stds(student_z_stds)


@pytest.mark.parametrize("bug", STD_BUGS)
def test_z_stds_slips_named(bug):
    with pytest.raises(AssertionError, match=STD_BUGS[bug]):
        nb04.check_z_stds(lambda *a: student_z_stds(*a, bug=bug))


def student_backprop_act(Ws, bs, X, Y, name, bug=None):
    m = X.shape[1]
    zs, acts = [], [X]
    for W, b in zip(Ws, bs):
        zs.append(W @ acts[-1] + b)
        acts.append(student_act(zs[-1], name)[0])
    delta = student_act(zs[-1], name)[1] * (2.0 / m) * (acts[-1] - Y)
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for l in range(len(Ws) - 1, -1, -1):
        dWs[l] = delta @ acts[l].T
        dbs[l] = delta.sum(axis=1, keepdims=True)
        if l > 0:
            at = acts[l] if bug == "fprime_of_a" else zs[l - 1]
            back = Ws[l].T @ delta
            delta = back if bug == "no_fprime" else student_act(at, name)[1] * back
    return dWs, dbs


BP_BUGS = {"fprime_of_a": "evaluated at the activation a\\^m instead of at z\\^m",
           "no_fprime": "missing in the hidden recursion"}


def test_backprop_act_right_passes():
    nb04.check_backprop_act_weights(student_backprop_act)
    nb04.check_backprop_act_biases(student_backprop_act)


@pytest.mark.parametrize("bug", BP_BUGS)
@pytest.mark.parametrize("check", [nb04.check_backprop_act_weights, nb04.check_backprop_act_biases],
                         ids=["weights", "biases"])
def test_backprop_act_slips_named(bug, check):
    with pytest.raises(AssertionError, match=BP_BUGS[bug]):
        check(lambda *a: student_backprop_act(*a, bug=bug))


def test_the_given_slip_is_invisible_for_relu_only():
    """The notebook's claim: f'(a) and f'(z) agree for ReLU, so only sigmoid and tanh cases catch the slip."""
    rng = np.random.default_rng(0)
    Ws = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    bs = [rng.normal(size=(4, 1)), rng.normal(size=(2, 1))]
    X, Y = rng.normal(size=(3, 5)), rng.uniform(size=(2, 5))
    right = mlp.backprop(Ws, bs, X, Y, "relu")[0]
    slipped = student_backprop_act(Ws, bs, X, Y, "relu", bug="fprime_of_a")[0]
    assert all(np.allclose(a, b) for a, b in zip(right, slipped))
    slipped = student_backprop_act(Ws, bs, X, Y, "tanh", bug="fprime_of_a")[0]
    assert not np.allclose(slipped[0], mlp.backprop(Ws, bs, X, Y, "tanh")[0][0])


# ---------------------------------------------------------------- the solved notebook against the reference, and the
# visible tests' messages for the given slip


@pytest.fixture(scope="module")
def ns04():
    from test_reference_matches_solutions import solution_namespace
    return solution_namespace("04_initialization")


def test_solutions_match_the_reference(ns04):
    rng = np.random.default_rng(11)
    z = rng.normal(0, 3, size=(3, 7))
    for name in variance.ACTS:
        for got, want in zip(ns04["act_and_slope"](z, name), variance.act_and_slope(z, name)):
            assert np.array_equal(got, want)
        assert ns04["next_z_variance"](0.7, 33, 0.01, name) == pytest.approx(variance.next_z_variance(0.7, 33, 0.01, name),
                                                                            rel=1e-15)
        Ws, bs = mlp.init_params([4, 6, 3, 2], rng)
        X, Y = rng.normal(size=(4, 5)), rng.uniform(size=(2, 5))
        assert np.allclose(ns04["z_stds"](Ws, bs, X, name), variance.z_stds(Ws, bs, X, name), rtol=1e-14)
        for got, want in zip(ns04["backprop_act"](Ws, bs, X, Y, name), mlp.backprop(Ws, bs, X, Y, name)):
            assert all(np.allclose(g, w, rtol=1e-12, atol=1e-15) for g, w in zip(got, want))


def test_the_given_slip_fails_the_visible_test_with_its_cause(ns04):
    from test_visible_messages import run_visible
    slipped = ns04["backprop_act_slipped"]
    assert run_visible("04_initialization", ns04, "test_backprop_act_weights") is None
    msg = run_visible("04_initialization", ns04, "test_backprop_act_weights", backprop_act=slipped)
    assert msg and msg.startswith("sigmoid") and "at which number is the slope f' evaluated" in msg, msg
    with pytest.raises(AssertionError, match="evaluated at the activation"):
        nb04.check_backprop_act_weights(slipped)


def test_a_wrong_act_and_slope_is_named_as_the_cause_of_a_wrong_backprop():
    def bad_act(z, name):
        return student_act(z, name, bug="tanh_of_z")

    def bp(Ws, bs, X, Y, name):
        m = X.shape[1]
        zs, acts = [], [X]
        for W, b in zip(Ws, bs):
            zs.append(W @ acts[-1] + b)
            acts.append(bad_act(zs[-1], name)[0])
        delta = bad_act(zs[-1], name)[1] * (2.0 / m) * (acts[-1] - Y)
        dWs, dbs = [None] * len(Ws), [None] * len(Ws)
        for l in range(len(Ws) - 1, -1, -1):
            dWs[l], dbs[l] = delta @ acts[l].T, delta.sum(axis=1, keepdims=True)
            if l > 0:
                delta = bad_act(zs[l - 1], name)[1] * (Ws[l].T @ delta)
        return dWs, dbs
    with pytest.raises(AssertionError, match="^Your act_and_slope of Part C.1 is not right yet"):
        nb04.check_backprop_act_weights(bp, bad_act)
    with pytest.raises(AssertionError, match="^backprop_act on a"):  # a right act_and_slope is not blamed
        nb04.check_backprop_act_weights(lambda *a: student_backprop_act(*a, bug="fprime_of_a"), student_act)
