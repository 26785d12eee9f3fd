"""No false rejects: every graded test cell of notebooks 01-05, re-run on its own solution, passes every random case.

The full measurement (>= 100,000 cases per check) is ``python -m autograder selftest --repeat 1 --cases 100000``; this
is its short version, 1,000 random cases per check (marked slow: it executes the notebooks). Also: the repeat driver can see a failure (a flaky cell
and a warning are counted), and the statistical and numerical pieces the checks rely on.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.authoring import repeat
from autograder.checks import nb04
from autograder.checks.numgrad import complex_step_gradient, relative_error
from autograder.reference import mlp

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [sorted((ROOT / "source").glob(f"{k}_*/*.ipynb"))[0] for k in ("01", "02", "03", "04", "05")]
#: Random cases each check must pass here (the full measurement uses 100,000).
SHORT_CASES = 1000


def _test_cell(grade_id, source):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": 1, "solution": False, "locked": True}
    return cell


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_solution_passes_thousands_of_random_cases(path):
    rows = repeat.repeat_notebook(path, runs=1, min_cases=SHORT_CASES, out=lambda s: None)
    bad = [f"{r['check']}: {r['fails']} of {r['runs']} runs failed ({r['first']})" for r in rows if r["fails"]]
    assert not bad, "false rejects:\n" + "\n".join(bad)
    assert all(r["cases"] >= SHORT_CASES or r["cases"] == 0 for r in rows)


def test_repeat_counts_failures_cases_and_warnings(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import warnings\nfrom autograder.checks._core import Case"),
                _test_cell("test_flaky", "assert Case().seed % 2 == 0, 'odd seed'"),
                _test_cell("test_warns", "warnings.warn('loud')"),
                _test_cell("test_quiet", "x = 1")]
    path = tmp_path / "flaky.ipynb"
    nbformat.write(nb, path)
    rows = {r["check"]: r for r in repeat.repeat_notebook(path, runs=60, out=lambda s: None)}
    assert rows["test_flaky"]["runs"] == 60 and rows["test_flaky"]["cases"] == 60
    assert 0 < rows["test_flaky"]["fails"] < 60 and "odd seed" in rows["test_flaky"]["first"]  # P(miss) = 2^-59
    assert rows["test_warns"]["fails"] == 60 and "stderr" in rows["test_warns"]["first"]
    assert rows["test_quiet"]["fails"] == 0 and rows["test_quiet"]["cases"] == 0


def test_complex_step_matches_the_analytic_backprop_to_rounding():
    """Expected values from the reference backprop (the analytic recursion), not from the complex step itself."""
    rng = np.random.default_rng(7)
    for act in ("sigmoid", "tanh", "relu"):
        sizes = [3, 5, 4, 2]
        Ws = [rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
        bs = [rng.uniform(0.1, 0.5, size=(o, 1)) for o in sizes[1:]]
        X, Y = rng.normal(size=(3, 4)), rng.uniform(size=(2, 4))
        dWs, _ = mlp.backprop(Ws, bs, X, Y, act, lam=0.7)
        for l in range(3):
            g = complex_step_gradient(lambda W, l=l: mlp.cost(Ws[:l] + [W] + Ws[l + 1:], bs, X, Y, act, lam=0.7), Ws[l])
            assert relative_error(g, dWs[l]) < 1e-13


def test_complex_step_is_exact_for_a_tiny_gradient():
    """Tiny gradients (deep sigmoid chains) were where central differences lost accuracy; the complex step keeps full
    relative accuracy: d/dv exp(-30 v) = -30 exp(-30 v), about -5.6e-11 at v = 0.9."""
    f = lambda v: np.exp(-30.0 * v[0]) if np.iscomplexobj(v) else float(np.exp(-30.0 * v[0]))  # noqa: E731
    x = np.array([0.9])
    exact = -30.0 * np.exp(-27.0)
    assert abs(complex_step_gradient(f, x)[0] / exact - 1) < 1e-14


def test_real_reference_results_are_unchanged_by_the_complex_branches():
    z = np.random.default_rng(3).normal(scale=5, size=(7, 3))
    e = np.exp(-np.abs(z))
    assert np.array_equal(mlp.sigmoid(z), np.where(z >= 0, 1 / (1 + e), e / (1 + e)))
    assert np.array_equal(mlp.relu(z), np.maximum(z, 0.0))
    assert isinstance(mlp.cost([np.ones((1, 3))], [np.ones((1, 1))], z[:3], np.ones((1, 3))), float)


@pytest.mark.parametrize("kind", ["normal", "uniform"])
def test_variance_bands_cover_the_exact_quantiles(kind):
    """The bands from tail bounds must contain the exact P_LAYER quantiles of the statistic (chi-square for normal
    weights: the bound is conservative, never tighter than the truth)."""
    stats = pytest.importorskip("scipy.stats")
    for n in (2000, 6000, 36000):
        _, low, high = nb04._bands(kind, n)
        if kind == "normal":
            assert low <= stats.chi2.ppf(nb04.P_LAYER / 2, n) / n and high >= stats.chi2.isf(nb04.P_LAYER / 2, n) / n
        assert 0.7 < low < 1 < high < 1.3


WRONG_INITS = {
    "xavier as he": (nb04.check_init_he, lambda i, o: np.sqrt(2 / (i + o)), "normal"),
    "he as xavier": (nb04.check_init_xavier, lambda i, o: np.sqrt(2 / i), "normal"),
    "1/n_in for he": (nb04.check_init_he, lambda i, o: np.sqrt(1 / i), "normal"),
    "sd as variance": (nb04.check_init_he, lambda i, o: (2 / i) ** 0.25, "normal"),
    "uniform with he's variance": (nb04.check_init_he, lambda i, o: np.sqrt(6 / i), "uniform"),
}


@pytest.mark.parametrize("bug", WRONG_INITS)
def test_wrong_initializations_still_fail(bug):
    check, scale, dist = WRONG_INITS[bug]

    def init(sizes, seed):
        rng = np.random.default_rng(seed)
        draw = (lambda s, sh: rng.normal(0, s, sh)) if dist == "normal" else (lambda s, sh: rng.uniform(-s, s, sh))
        return ([draw(scale(i, o), (o, i)) for i, o in zip(sizes[:-1], sizes[1:])],
                [np.zeros((o, 1)) for o in sizes[1:]])
    for _ in range(20):
        with pytest.raises(AssertionError):
            check(init)
