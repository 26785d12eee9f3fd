"""autograder/reference/mlp.py is the instructor's importable copy of the solutions of notebooks 02, 05 and 06 (the benchmarks
time it). Here the notebooks' own solution code runs, and must agree with it on random networks."""
import os

import matplotlib
import nbformat
import numpy as np
import pytest

from autograder.reference import mlp
from conftest import ROOT

matplotlib.use("Agg")
pytestmark = pytest.mark.slow


def solution_namespace(assignment: str) -> dict:
    """Run every code cell of the source notebook except the test cells, as a grading run would (heavy work shrunk)."""
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    ns: dict = {}
    old_cwd, old_env = os.getcwd(), os.environ.get("NBGRADER_EXECUTION")
    os.chdir(ROOT / "source" / assignment)
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        for cell in nb.cells:
            if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade"):
                continue
            src = "\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!")))
            exec(compile(src, f"{assignment} cell", "exec"), ns)
    finally:
        os.chdir(old_cwd)
        if old_env is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = old_env
    return ns


def random_net(rng, sizes, m):
    Ws, bs = mlp.init_params(sizes, rng)
    bs = [b + 0.3 for b in bs]
    X = rng.normal(size=(sizes[0], m))
    Y = rng.uniform(size=(sizes[-1], m))
    return Ws, bs, X, Y


def close(a, b):
    return all(np.allclose(x, y, rtol=1e-12, atol=1e-14) for x, y in zip(a, b)) and len(a) == len(b)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_notebook_02_solution_equals_reference(activation):
    ns = solution_namespace("02_backprop_depth")
    rng = np.random.default_rng(2)
    for sizes, m in [([4, 5, 3, 2], 7), ([16, 16, 16], 1), ([3, 6, 2, 4, 1], 5)]:
        Ws, bs, X, Y = random_net(rng, sizes, m)
        zs, acts = ns["forward"](Ws, bs, X, activation)
        ref_zs, ref_acts = mlp.forward(Ws, bs, X, activation)
        assert close(zs, ref_zs) and close(acts[-1:], ref_acts[-1:])
        assert np.isclose(ns["cost"](Ws, bs, X, Y, activation), mlp.cost(Ws, bs, X, Y, activation), rtol=1e-12)
        dWs, dbs = ns["backprop"](Ws, bs, X, Y, activation)
        ref_dWs, ref_dbs = mlp.backprop(Ws, bs, X, Y, activation)
        assert close(dWs, ref_dWs) and close(dbs, ref_dbs)


def test_notebook_05_solution_equals_reference():
    ns = solution_namespace("05_regularization")
    rng = np.random.default_rng(5)
    for lam in [0.0, 0.7, 3.0]:
        Ws, bs, X, Y = random_net(rng, [5, 8, 3], 6)
        assert np.isclose(ns["cost"](Ws, bs, X, Y, lam), mlp.cost(Ws, bs, X, Y, "sigmoid", lam), rtol=1e-12)
        dWs, dbs = ns["backprop"](Ws, bs, X, Y, lam)
        ref_dWs, ref_dbs = mlp.backprop(Ws, bs, X, Y, "sigmoid", lam)
        assert close(dWs, ref_dWs) and close(dbs, ref_dbs)


def test_notebook_06_solution_equals_reference():
    ns = solution_namespace("06_sgd_digits")
    rng = np.random.default_rng(6)
    Ws, bs, X, Y = random_net(rng, [784, 16, 16, 10], 32)
    assert np.isclose(ns["cost"](Ws, bs, X, Y), mlp.cost(Ws, bs, X, Y), rtol=1e-12)
    dWs, dbs = ns["backprop"](Ws, bs, X, Y)
    ref_dWs, ref_dbs = mlp.backprop(Ws, bs, X, Y)
    assert close(dWs, ref_dWs) and close(dbs, ref_dbs)
    labels = rng.integers(0, 10, size=12)
    assert np.array_equal(ns["one_hot"](labels), mlp.one_hot(labels))
