"""The bug zoo: one student-style backprop per common bug. Each must fail notebook 02's hidden checks and be named in
the failure message; the correct one must pass 100 random draws out of 100.

The student backprop below is written here, on its own, with a switch per bug (it does not reuse the grader's
``diagnose.backprop_variant``, which is what recognises the bugs), and the checks compare it with central differences
of the reference cost.

Further rows: notebook 05 (L2 slips, the train/test split, fit's history) and notebook 04 (initializations that keep
the symmetry, or too small an epsilon). Each bug must be named by its own cause, and not by another one's.
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


# ---------------------------------------------------------------- row 11: notebook 05, Part B (the split and fit's history)


def student_split(X, Y, n_test, rng, bug=None):
    """split_train_test as the notebook asks (test = perm[:n_test]), or one of the readings the old text allowed."""
    rng = np.random.default_rng(rng)
    m = X.shape[1]
    if bug == "choice":
        test = rng.choice(m, size=n_test, replace=False)
        train = np.array([j for j in range(m) if j not in set(test.tolist())])
    else:
        perm = np.random.permutation(m) if bug == "global_rng" else rng.permutation(m)
        test, train = (perm[m - n_test:], perm[:m - n_test]) if bug == "last" else (perm[:n_test], perm[n_test:])
    return X[:, train], Y[:, train], X[:, test], Y[:, test]


SPLIT_ZOO = {
    "last": "last n_test entries of the permutation",
    "choice": "first draw from rng",
    "global_rng": "same seed gave a different split",
}


@pytest.mark.parametrize("bug", sorted(SPLIT_ZOO))
def test_split_bug_loses_points_and_is_named(bug):
    with pytest.raises(AssertionError) as err:
        nb05.check_split(lambda *a: student_split(*a, bug=bug))
    assert SPLIT_ZOO[bug] in str(err.value), f"{bug}: the message does not say {SPLIT_ZOO[bug]!r}:\n{err.value}"
    assert "perm[:n_test]" in str(err.value)


def test_split_without_bugs_passes_100_of_100_draws():
    for _ in range(100):
        nb05.check_split(student_split)


def student_cost(Ws, bs, X, Y, lam=0.0):
    a = X
    for W, b in zip(Ws, bs):
        a = mlp.sigmoid(W @ a + b)
    m = X.shape[1]
    return float(np.sum((a - Y) ** 2) / m + lam / (2 * m) * sum(np.sum(W ** 2) for W in Ws))


def student_fit(X, Y, sizes, lam, eta, epochs, seed, X_test, Y_test, grad=None, bug=None):
    """fit with a switch: "before" appends the costs before each step, "penalty" appends them with lam, "both" does
    both. The parameters are updated correctly in every variant."""
    Ws, bs = mlp.init_params(sizes, np.random.default_rng(seed))
    history = {"train": [], "test": []}
    rec_lam = lam if bug in ("penalty", "both") else 0.0

    def record():
        history["train"].append(student_cost(Ws, bs, X, Y, rec_lam))
        history["test"].append(student_cost(Ws, bs, X_test, Y_test, rec_lam))
    for _ in range(epochs):
        if bug in ("before", "both"):
            record()
        dWs, dbs = (student_backprop_l2 if grad is None else grad)(Ws, bs, X, Y, lam)
        Ws = [W - eta * dW for W, dW in zip(Ws, dWs)]
        bs = [b - eta * db for b, db in zip(bs, dbs)]
        if bug not in ("before", "both"):
            record()
    return Ws, bs, history


# bug -> (words the message must contain, words it must not contain)
FIT_ZOO = {
    "before": (["before each step", "cost at the initial parameters"], ["penalty"]),
    "penalty": (["includes the L2 penalty", "lam = 0"], ["before"]),
    "both": (["before each step", "includes the L2 penalty"], []),
}


@pytest.mark.parametrize("bug", sorted(FIT_ZOO))
def test_fit_history_bug_is_named_by_its_own_cause(bug):
    must, must_not = FIT_ZOO[bug]
    with pytest.raises(AssertionError) as err:
        nb05.check_fit(lambda *a: student_fit(*a, bug=bug))
    msg = str(err.value)
    assert all(w in msg for w in must), f"{bug}: the message should say {must}:\n{msg}"
    assert not any(w in msg for w in must_not), f"{bug}: the message names a cause it is not, {must_not}:\n{msg}"


def test_fit_without_bugs_passes_30_of_30_draws():
    for _ in range(30):
        nb05.check_fit(student_fit)


# ---------------------------------------------------------------- row 12: notebook 04, initializations that keep the symmetry

from autograder.checks import nb04  # noqa: E402


def student_init(sizes, rng, rule="uniform", bug=None):
    """init_uniform / init_xavier / init_he, with a switch: "same" draws one number per layer and copies it to every
    weight, "row" draws one row and copies it to every unit, "small" uses a tenth of the right scale."""
    rng = np.random.default_rng(rng)
    Ws, bs = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        if rule == "uniform":
            eps = np.sqrt(6.0) / np.sqrt(n_in + n_out) / (10.0 if bug == "small" else 1.0)
            draw = lambda size: rng.uniform(-eps, eps, size=size)  # noqa: E731
        else:
            sd = np.sqrt(2.0 / (n_in + n_out) if rule == "xavier" else 2.0 / n_in)
            draw = lambda size: rng.normal(0.0, sd, size=size)  # noqa: E731
        if bug == "same":
            W = np.full((n_out, n_in), float(draw(None)))
        elif bug == "row":
            W = np.tile(draw(n_in), (n_out, 1))
        else:
            W = draw((n_out, n_in))
        Ws.append(W)
        bs.append(np.zeros((n_out, 1)))
    return Ws, bs


INIT_CHECKS = {"uniform": nb04.check_init_uniform, "xavier": nb04.check_init_xavier, "he": nb04.check_init_he}
# (rule, bug) -> (words the message must contain, words it must not contain)
INIT_ZOO = {
    ("uniform", "same"): (["have the same value", "symmetry is not broken"], ["epsilon"]),
    ("uniform", "row"): (["rows of Ws[0]", "symmetry is not broken"], ["epsilon"]),
    ("uniform", "small"): (["is epsilon too small?"], ["symmetry"]),
    ("xavier", "same"): (["have the same value", "symmetry is not broken"], ["variance"]),
    ("he", "row"): (["rows of Ws[0]", "symmetry is not broken"], ["variance"]),
}


@pytest.mark.parametrize("rule,bug", sorted(INIT_ZOO))
def test_init_bug_is_named_by_its_own_cause(rule, bug):
    must, must_not = INIT_ZOO[rule, bug]
    for _ in range(10):  # every draw, not only a lucky one
        with pytest.raises(AssertionError) as err:
            INIT_CHECKS[rule](lambda *a: student_init(*a, rule=rule, bug=bug))
        msg = str(err.value)
        assert all(w in msg for w in must), f"{rule}/{bug}: the message should say {must}:\n{msg}"
        assert not any(w in msg for w in must_not), f"{rule}/{bug}: the message names a cause it is not:\n{msg}"


def test_inits_without_bugs_pass_20_of_20_draws():
    for _ in range(20):
        for rule, check in INIT_CHECKS.items():
            check(lambda *a, rule=rule: student_init(*a, rule=rule))
