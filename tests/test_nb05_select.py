"""Notebook 05's Parts C-E: a right answer passes every check, and each planted slip fails with its own cause.

The student functions are written here, the buggy way, with a switch per slip (they do not reuse the reference).
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import nb05
from autograder.reference import mlp


def student_decay(Ws, bs, X, Y, lam, eta, bug=None):
    m = X.shape[1]
    dWs, dbs = mlp.backprop(Ws, bs, X, Y)
    shrink = 1 - eta * lam if bug in ("no_over_m", "given") else 1 - eta * lam / m
    if bug == "after":
        new_Ws = [shrink * (W - eta * d) for W, d in zip(Ws, dWs)]
    else:
        new_Ws = [shrink * W - eta * d for W, d in zip(Ws, dWs)]
    decay_b = bug in ("biases", "given")
    return new_Ws, [(shrink * b if decay_b else b) - eta * d for b, d in zip(bs, dbs)]


DECAY = {("no_over_m", "weights"): "missing its 1/m", ("after", "weights"): "applied after the step",
         ("biases", "biases"): "the biases are decayed too", ("given", "weights"): "missing its 1/m",
         ("given", "biases"): "the biases are decayed too"}


def test_decay_right_passes():
    nb05.check_decay_step_weights(student_decay)
    nb05.check_decay_step_biases(student_decay)


@pytest.mark.parametrize("bug,part", DECAY, ids=lambda x: str(x))
def test_decay_slips_named(bug, part):
    check = nb05.check_decay_step_weights if part == "weights" else nb05.check_decay_step_biases
    with pytest.raises(AssertionError, match=DECAY[(bug, part)]):
        check(lambda *a: student_decay(*a, bug=bug))


def student_fit(X, Y, sizes, lam, eta, epochs, seed, Xv, Yv, grad=None):
    Ws, bs = mlp.init_params(sizes, np.random.default_rng(seed))
    h = {"train": [], "test": []}
    for _ in range(epochs):
        dWs, dbs = (grad or (lambda *a: mlp.backprop(*a[:4], lam=a[4])))(Ws, bs, X, Y, lam)
        Ws = [W - eta * d for W, d in zip(Ws, dWs)]
        bs = [b - eta * d for b, d in zip(bs, dbs)]
        h["train"].append(mlp.cost(Ws, bs, X, Y))
        h["test"].append(mlp.cost(Ws, bs, Xv, Yv))
    return Ws, bs, h


def student_sweep(X, Y, Xv, Yv, sizes, lams, eta, epochs, seed, fit_fn=None, bug=None):
    fit_fn = student_fit if fit_fn is None else fit_fn
    tr, va = [], []
    for k, lam in enumerate(lams):
        Ws, bs, h = fit_fn(X, Y, sizes, lam, eta, epochs, seed, Xv, Yv)
        tr.append(mlp.cost(Ws, bs, X, Y, lam=lam) if bug == "penalty" else h["train"][-1])
        va.append(mlp.cost(Ws, bs, Xv, Yv, lam=lam) if bug == "penalty" else h["test"][-1])
    tr, va = np.array(tr), np.array(va)
    return {"train": tr, "val": va, "gap": tr - va if bug == "gap_sign" else va - tr}


SWEEP = {"penalty": "include the penalty", "gap_sign": "validation minus training"}


def test_sweep_right_passes():
    nb05.check_lambda_sweep(student_sweep)


@pytest.mark.parametrize("bug", SWEEP)
def test_sweep_slips_named(bug):
    with pytest.raises(AssertionError, match=SWEEP[bug]):
        nb05.check_lambda_sweep(lambda *a: student_sweep(*a, bug=bug))


def bad_backprop(Ws, bs, X, Y, lam):
    dWs, dbs = mlp.backprop(Ws, bs, X, Y)
    return [d + lam * W for d, W in zip(dWs, Ws)], dbs


def bad_fit(X, Y, sizes, lam, eta, epochs, seed, Xv, Yv, grad=None):
    return student_fit(X, Y, sizes, lam, eta, epochs, seed, Xv, Yv, grad=bad_backprop)


def test_a_wrong_earlier_part_costs_nothing_later():
    """Each part is graded on its own: the checks pass the reference fit or gradient as the last argument, and a sweep,
    fit or early stopping that uses what it is given passes, whatever the student's own backprop and fit (whose
    defaults here would be bad_backprop and bad_fit) do."""
    def given_or(default, a, n):
        assert len(a) == n + 1, f"the check should pass {n + 1} arguments, the last the reference; got {len(a)}"
        return a[n] if a[n] is not None else default
    nb05.check_lambda_sweep(lambda *a: student_sweep(*a[:9], fit_fn=given_or(bad_fit, a, 9)))
    nb05.check_fit(lambda *a: student_fit(*a[:9], grad=given_or(bad_backprop, a, 9)))
    nb05.check_early_stopping(lambda *a: student_early(*a[:10], grad=given_or(bad_backprop, a, 10)))


def test_a_part_that_ignores_what_it_is_given_is_told_so():
    with pytest.raises(AssertionError, match="lambda_sweep never called the `fit_fn` it was given"):
        nb05.check_lambda_sweep(lambda *a: student_sweep(*a[:9], fit_fn=bad_fit))
    with pytest.raises(AssertionError, match="^fit never called the `grad` it was given"):
        nb05.check_fit(lambda *a: student_fit(*a[:9], grad=bad_backprop))
    with pytest.raises(AssertionError, match="fit_early_stopping never called the `grad` it was given"):
        nb05.check_early_stopping(lambda *a: student_early(*a[:10], grad=bad_backprop))
    with pytest.raises(AssertionError, match="^lambda_sweep"):  # no blame of Part A.2 or B.2 left in the messages
        nb05.check_lambda_sweep(lambda *a: student_sweep(*a, bug="gap_sign"))


def student_best(lams, vals, bug=None):
    lams, vals = np.asarray(lams), np.asarray(vals)
    if bug == "index":
        return int(np.argmin(vals))
    if bug == "first_tie":
        return float(lams[np.argmin(vals)])
    return float(np.max(lams[vals == vals.min()]))


def test_best_lambda_right_passes():
    nb05.check_best_lambda(student_best)


def test_best_lambda_slips_named():
    with pytest.raises(AssertionError, match="index of the best lambda|two lambdas tie"):  # index 0 is also lambda 0
        nb05.check_best_lambda(lambda a, b: student_best(a, b, "index"))
    with pytest.raises(AssertionError, match="return the larger"):
        for _ in range(5):   # a tie is drawn in half the cases, and eight cases are run: 1 in 256 per call has none
            nb05.check_best_lambda(lambda a, b: student_best(a, b, "first_tie"))


def student_early(X, Y, sizes, lam, eta, max_epochs, patience, seed, Xv, Yv, grad=None, bug=None):
    grad = (lambda *a: mlp.backprop(*a[:4], lam=a[4])) if grad is None else grad
    Ws, bs = mlp.init_params(sizes, np.random.default_rng(seed))
    h = {"train": [], "val": []}
    best, best_epoch, kept = np.inf, 0, (Ws, bs)
    for epoch in range(1, max_epochs + 1):
        dWs, dbs = grad(Ws, bs, X, Y, lam)
        Ws = [W - eta * d for W, d in zip(Ws, dWs)]
        bs = [b - eta * d for b, d in zip(bs, dbs)]
        h["train"].append(mlp.cost(Ws, bs, X, Y))
        h["val"].append(mlp.cost(Ws, bs, Xv, Yv))
        watched = h["train" if bug == "train" else "val"][-1]
        if watched < best:
            best, best_epoch, kept = watched, epoch, (Ws, bs)
        elif epoch - best_epoch >= patience + (1 if bug == "late" else 0):
            break
    if bug == "last":
        kept = (Ws, bs)
    return kept[0], kept[1], best_epoch - (1 if bug == "zero_based" else 0), h


EARLY = {"late": "an epoch late", "train": "on the training cost", "last": "those of the last epoch run",
         "zero_based": "Count epochs from 1"}


def test_early_stopping_right_passes():
    nb05.check_early_stopping(student_early)


@pytest.mark.parametrize("bug", EARLY)
def test_early_stopping_slips_named(bug):
    with pytest.raises(AssertionError, match=EARLY[bug]):
        for _ in range(10):  # a case that does not stop early cannot show "late" or "last": try a few runs
            nb05.check_early_stopping(lambda *a: student_early(*a, bug=bug))


# ---------------------------------------------------------------- the solved notebook against the reference, and the
# visible tests' messages for the given slips

from autograder.reference import regularization as reg  # noqa: E402


@pytest.fixture(scope="module")
def ns05():
    from test_reference_matches_solutions import solution_namespace
    return solution_namespace("05_regularization")


def test_solutions_match_the_reference(ns05):
    rng = np.random.default_rng(12)
    sizes = [2, 5, 1]
    X, Y = rng.normal(size=(2, 9)), rng.uniform(size=(1, 9))
    Xv, Yv = rng.normal(size=(2, 6)), rng.uniform(size=(1, 6))
    Ws, bs = mlp.init_params(sizes, rng)
    for got, want in zip(ns05["decay_step"](Ws, bs, X, Y, 0.7, 0.4), reg.decay_step(Ws, bs, X, Y, 0.7, 0.4)):
        assert all(np.allclose(g, w, rtol=1e-13) for g, w in zip(got, want))
    got, want = (f(X, Y, Xv, Yv, sizes, [0.0, 0.1, 1.0], 1.5, 12, 3) for f in (ns05["lambda_sweep"], reg.lambda_sweep))
    assert all(np.allclose(got[k], want[k], rtol=1e-12) for k in ("train", "val", "gap"))
    assert ns05["best_lambda"]([0.0, 0.1, 1.0], [0.2, 0.1, 0.1]) == reg.best_lambda([0.0, 0.1, 1.0], [0.2, 0.1, 0.1]) == 1.0
    got = ns05["fit_early_stopping"](X, Y, sizes, 0.0, 3.0, 50, 3, 4, Xv, Yv)
    want = reg.fit_early_stopping(X, Y, sizes, 0.0, 3.0, 50, 3, 4, Xv, Yv)
    assert got[2] == want[2] and len(got[3]["val"]) == len(want[3]["val"])
    assert all(np.allclose(g, w, rtol=1e-12) for g, w in zip(got[0], want[0]))


def test_the_given_slips_fail_the_visible_tests_with_their_causes(ns05):
    from test_visible_messages import run_visible
    slipped = ns05["decay_step_slipped"]
    for gid, cause in (("test_decay_step_weights", "1 - eta * lam / m"), ("test_decay_step_biases", "no shrink")):
        assert run_visible("05_regularization", ns05, gid) is None
        msg = run_visible("05_regularization", ns05, gid, decay_step=slipped)
        assert msg and cause in msg, msg
    with pytest.raises(AssertionError, match="missing its 1/m"):
        nb05.check_decay_step_weights(slipped)
    with pytest.raises(AssertionError, match="the biases are decayed too"):
        nb05.check_decay_step_biases(slipped)


def test_the_solved_parts_pass_with_a_wrong_backprop_and_fit_in_the_notebook(ns05):
    """The demo class's ben (lam W, no 1/m) and a fit that is wrong too: only Part A.2 may fail, hidden or visible."""
    from test_visible_messages import run_visible
    saved = {k: ns05[k] for k in ("backprop", "fit")}
    right_fit = ns05["fit"]
    try:
        ns05["backprop"] = bad_backprop
        for gid in ("test_fit", "test_lambda_sweep", "test_early_stopping"):
            assert run_visible("05_regularization", ns05, gid) is None, gid
        nb05.check_fit(right_fit)
        nb05.check_early_stopping(ns05["fit_early_stopping"])
        ns05["fit"] = lambda *a, **k: (_ for _ in ()).throw(NotImplementedError())
        assert run_visible("05_regularization", ns05, "test_lambda_sweep") is None
        nb05.check_lambda_sweep(ns05["lambda_sweep"])
    finally:
        ns05.update(saved)
