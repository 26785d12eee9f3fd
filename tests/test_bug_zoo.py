"""The bug zoo: one student-style backprop per common bug. Each must fail notebook 02's hidden checks and be named in
the failure message; the correct one must pass 100 random draws out of 100.

The student backprop below is written here, on its own, with a switch per bug (it does not reuse the grader's
``diagnose.backprop_variant``, which is what recognises the bugs), and the checks compare it with central differences
of the reference cost.
"""
import numpy as np
import pytest

from autograder.reference import mlp
from autograder.checks import nb02
from autograder.checks.numgrad import numerical_gradient


def student_backprop(Ws, bs, X, Y, activation="sigmoid", bug=None):
    f, fp = {"sigmoid": (mlp.sigmoid, mlp.sigmoid_prime), "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
             "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0)}[activation]
    m = X.shape[1]
    zs, acts = [], [X]
    for W, b in zip(Ws, bs):
        zs.append(W @ acts[-1] + b)
        acts.append(f(zs[-1]))
    L = len(Ws)
    two = {"half": 1.0, "double": 4.0}.get(bug, 2.0)
    dJ_da = two * (acts[-1] - Y) if bug != "sign" else two * (Y - acts[-1])
    if bug != "no_average":
        dJ_da = dJ_da / m
    slope = (lambda i: fp(acts[i + 1])) if bug == "fprime_of_a" else (lambda i: fp(zs[i]))
    delta = dJ_da if bug == "no_fprime_output" else slope(L - 1) * dJ_da
    dWs, dbs = [None] * L, [None] * L
    for i in range(L - 1, -1, -1):
        a_in = acts[i + 1] if bug == "off_by_one" else acts[i]
        if bug == "int_accumulator":  # accumulators shaped like the parameters, and of their dtype
            dWs[i], dbs[i] = np.zeros_like(Ws[i]), np.zeros_like(bs[i])
            for j in range(m):
                dWs[i] += delta[:, j:j + 1] @ a_in[:, j:j + 1].T
                dbs[i] += delta[:, j:j + 1]
        elif bug == "overwrite":  # a loop over examples that assigns instead of adding
            for j in range(m):
                dWs[i] = delta[:, j:j + 1] @ a_in[:, j:j + 1].T
                dbs[i] = delta[:, j:j + 1].copy()
        else:
            dWs[i] = delta @ a_in.T
            if bug == "bias_axis":
                dbs[i] = delta.sum(axis=0, keepdims=True)
            elif bug == "bias_not_summed":
                dbs[i] = delta.copy()
            else:
                dbs[i] = delta.sum(axis=1, keepdims=True)
        if i > 0:
            back = (Ws[i] if bug == "no_transpose" else Ws[i].T) @ delta
            delta = back if bug == "no_fprime_hidden" else slope(i - 1) * back
    return dWs, dbs


def numerical_backprop(Ws, bs, X, Y, activation="sigmoid"):
    """A "backprop" that differentiates the cost numerically, 2P forward passes."""
    dWs = [numerical_gradient(lambda W, l=l: mlp.cost(Ws[:l] + [W] + Ws[l + 1:], bs, X, Y, activation), Ws[l])
           for l in range(len(Ws))]
    dbs = [numerical_gradient(lambda b, l=l: mlp.cost(Ws, bs[:l] + [b] + bs[l + 1:], X, Y, activation), bs[l])
           for l in range(len(bs))]
    return dWs, dbs


# bug -> (the hidden check that must fail, words its message must contain)
ZOO = {
    "sign": ("weights", "sign error"),                          # row 1
    "double": ("weights", "factor of 2"),                       # row 2
    "half": ("biases", "factor of 2"),                          # row 2
    "no_average": ("weights", "1/m"),                           # row 3
    "bias_axis": ("biases", "summed over the units"),           # row 4
    "bias_not_summed": ("biases", "sum delta over the batch"),  # row 4
    "no_fprime_output": ("weights", "f'(z^L) missing"),         # row 5
    "no_fprime_hidden": ("weights", "missing in the hidden recursion"),  # row 6
    "fprime_of_a": ("weights", "instead of at z^m"),            # row 7
    "no_transpose": ("weights", "transpose"),                   # row 8
    "off_by_one": ("weights", "a^{m-1}"),                       # row 9
    "overwrite": ("weights", "only the last example"),          # `=` where `+=` accumulates
    "int_accumulator": ("weights", "np.zeros_like(W)"),         # parameters or inputs of integer dtype
}


@pytest.mark.parametrize("bug", sorted(ZOO))
def test_bug_loses_points_and_is_named(bug):
    which, words = ZOO[bug]
    check = nb02.check_backprop_weights if which == "weights" else nb02.check_backprop_biases
    with pytest.raises(AssertionError) as err:
        check(lambda *a: student_backprop(*a, bug=bug))
    assert words in str(err.value), f"{bug}: the message does not say {words!r}:\n{err.value}"


def test_the_zoo_student_without_bugs_passes_100_of_100_draws():
    for _ in range(100):
        nb02.check_backprop_weights(student_backprop)
        nb02.check_backprop_biases(student_backprop)


def test_numerical_backprop_is_rejected():
    with pytest.raises(AssertionError, match="numerical gradient"):
        nb02.check_backprop_weights(numerical_backprop)


# ---------------------------------------------------------------- row 10: L2 mistakes (notebook 05's checks)

from autograder.checks import nb05  # noqa: E402


def student_backprop_l2(Ws, bs, X, Y, lam=0.0, bug=None):
    """J = (1/m) sum (a - y)^2 + lam/(2m) sum ||W||^2 (weights only), sigmoid, with a switch per L2 slip."""
    m = X.shape[1]
    dWs, dbs = student_backprop(Ws, bs, X, Y, "sigmoid")
    w_factor = {"two_lam": 2 * lam / m, "no_over_m": lam, "missing": 0.0}.get(bug, lam / m)
    dWs = [dW + w_factor * W for dW, W in zip(dWs, Ws)]
    if bug == "bias_regularized":
        dbs = [db + lam / m * b for db, b in zip(dbs, bs)]
    return dWs, dbs


L2_ZOO = {
    "bias_regularized": (nb05.check_backprop_reg_biases, "biases are not regularized"),
    "two_lam": (nb05.check_backprop_reg_weights, "twice too large"),
    "no_over_m": (nb05.check_backprop_reg_weights, "missing its 1/m"),
    "missing": (nb05.check_backprop_reg_weights, "penalty is missing"),
}


@pytest.mark.parametrize("bug", sorted(L2_ZOO))
def test_l2_bug_loses_points_and_is_named(bug):
    check, words = L2_ZOO[bug]
    with pytest.raises(AssertionError) as err:
        check(lambda *a: student_backprop_l2(*a, bug=bug))
    assert words in str(err.value), f"{bug}: the message does not say {words!r}:\n{err.value}"


def test_l2_student_without_bugs_passes_100_of_100_draws():
    for _ in range(100):
        nb05.check_backprop_reg_weights(student_backprop_l2)
        nb05.check_backprop_reg_biases(student_backprop_l2)
