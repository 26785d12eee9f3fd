"""The visible tests of notebooks 04 and 05, the only feedback a student has before grading, name the right cause.

Each case plants one bug in the student's function (written here the buggy way), runs the visible part of the test
cell (the hidden block removed, as in release/) in the namespace of the solved notebook, and reads the assert message.
The bugs are those met by a student who solved the released notebooks from their text alone: a split that takes the
last n_test entries of the permutation (or rng.choice), a fit that records the cost before each step, an init_uniform
that copies one random value to every weight.
"""
import re

import nbformat
import numpy as np
import pytest

from conftest import ROOT
from test_bug_zoo import student_split
from test_reference_matches_solutions import solution_namespace

pytestmark = pytest.mark.slow


def run_visible(assignment, ns, grade_id, **planted):
    """Run the visible asserts of one test cell with ``planted`` functions in place of the student's. Returns the
    assert message, or None when every assert passed."""
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    src = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n", "", cell.source, flags=re.S)
    assert "autograder" not in src
    try:
        exec(compile(src, grade_id, "exec"), {**ns, **planted})
    except AssertionError as e:
        return str(e)
    return None


@pytest.fixture(scope="module")
def ns05():
    return solution_namespace("05_regularization")


@pytest.fixture(scope="module")
def ns04():
    return solution_namespace("04_initialization")


def split_variant(how):
    """The bug zoo's split: "first" as the notebook asks, "last" or "choice" as the old text also allowed."""
    def split_train_test(X, Y, n_test, rng):
        return student_split(X, Y, n_test, rng, bug=None if how == "first" else how)
    return split_train_test


def test_split_visible_test_passes_the_first_n_test(ns05):
    assert run_visible("05_regularization", ns05, "test_split", split_train_test=split_variant("first")) is None


@pytest.mark.parametrize("how", ["last", "choice"])
def test_split_visible_test_rejects_other_readings(ns05, how):
    msg = run_visible("05_regularization", ns05, "test_split", split_train_test=split_variant(how))
    assert msg and "first 3 entries" in msg and "[4 6 2 7 3 5 9 0 8 1]" in msg, msg


def fit_variant(ns, bug):
    def fit(X, Y, sizes, lam, eta, epochs, seed, X_test, Y_test, grad=None):
        grad = ns["backprop"] if grad is None else grad
        Ws, bs = ns["init_params"](sizes, np.random.default_rng(seed))
        history = {"train": [], "test": []}
        rec = lam if bug == "penalty" else 0.0
        for _ in range(epochs):
            if bug == "before":
                history["train"].append(ns["cost"](Ws, bs, X, Y, rec))
                history["test"].append(ns["cost"](Ws, bs, X_test, Y_test, rec))
            dWs, dbs = grad(Ws, bs, X, Y, lam)
            Ws = [W - eta * d for W, d in zip(Ws, dWs)]
            bs = [b - eta * d for b, d in zip(bs, dbs)]
            if bug != "before":
                history["train"].append(ns["cost"](Ws, bs, X, Y, rec))
                history["test"].append(ns["cost"](Ws, bs, X_test, Y_test, rec))
        return Ws, bs, history
    return fit


def test_fit_visible_test_passes_a_right_fit(ns05):
    assert run_visible("05_regularization", ns05, "test_fit", fit=fit_variant(ns05, None)) is None


@pytest.mark.parametrize("bug,must,must_not", [("before", "before the step", "penalty"),
                                               ("penalty", "includes the penalty", "before")])
def test_fit_visible_test_names_its_own_cause(ns05, bug, must, must_not):
    msg = run_visible("05_regularization", ns05, "test_fit", fit=fit_variant(ns05, bug))
    assert msg and must in msg and must_not not in msg, msg


def init_uniform_variant(bug):
    def init_uniform(sizes, rng):
        rng = np.random.default_rng(rng)
        Ws, bs = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            eps = np.sqrt(6.0) / np.sqrt(n_in + n_out)
            if bug == "same":
                W = np.full((n_out, n_in), rng.uniform(-eps, eps))
            elif bug == "row":
                W = np.tile(rng.uniform(-eps, eps, size=n_in), (n_out, 1))
            elif bug == "small":
                W = rng.uniform(-eps / 3, eps / 3, size=(n_out, n_in))
            else:
                W = rng.uniform(-eps, eps, size=(n_out, n_in))
            Ws.append(W)
            bs.append(np.zeros((n_out, 1)))
        return Ws, bs
    return init_uniform


def test_init_uniform_visible_test_passes_a_right_init(ns04):
    assert run_visible("04_initialization", ns04, "test_init_uniform", init_uniform=init_uniform_variant(None)) is None


@pytest.mark.parametrize("bug,must,must_not", [("same", "same value", "epsilon"), ("row", "rows of Ws[0]", "epsilon"),
                                               ("small", "is epsilon too small?", "copies")])
def test_init_uniform_visible_test_names_its_own_cause(ns04, bug, must, must_not):
    msg = run_visible("04_initialization", ns04, "test_init_uniform", init_uniform=init_uniform_variant(bug))
    assert msg and must in msg and must_not not in msg, msg
