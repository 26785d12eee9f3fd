"""Notebook 07 (optimizers and a softmax classifier): its reference, its hidden checks and its layout.

* the reference (``autograder.reference.optim``) against complex-step derivatives and closed forms;
* the bug zoo of 07: a student-style implementation per typical slip must fail its hidden check with its own diagnosis;
* false rejects: correct implementations written differently (PyTorch-form momentum, in-place Adam, ...) pass many
  random cases, and the measured error of a correct step is far below the tolerance;
* the notebook's solution code equals the reference; the shrunk digits run clears its bar on every seed tried;
* the layout rules of 04/05 (part points in the markdown, locked given cells) hold for 07 as well.
"""
import json
import re
from collections import defaultdict

import numpy as np
import pytest

from autograder.checks import nb07, nb07_optim
from autograder.checks._core import Case
from autograder.checks.numgrad import complex_step_gradient, relative_error
from autograder.reference import mlp, optim
from conftest import ROOT

SOURCE = ROOT / "source" / "07_optimizers" / "07_optimizers.ipynb"


def fails(check, fn, *words):
    """``check(fn)`` must raise AssertionError whose message contains every one of ``words``."""
    with pytest.raises(AssertionError) as e:
        check(fn)
    for w in words:
        assert w in str(e.value), f"expected {w!r} in: {e.value}"
    return str(e.value)


# ---------------------------------------------------------------- the reference


def test_softmax_reference_is_stable_and_sums_to_one():
    Z = np.array([[1000.0, -1000.0, 3.0], [999.0, -1001.0, 1.0], [0.0, -3000.0, 2.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        A = optim.softmax(Z)
    assert np.allclose(A.sum(axis=0), 1.0)
    assert np.allclose(A[:2, 0], [1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1))])
    assert np.allclose(optim.log_softmax(Z)[:, 2], np.log(A[:, 2]))


def test_reference_backprop_matches_complex_step():
    rng = np.random.default_rng(0)
    for _ in range(20):
        sizes = list(rng.integers(2, 6, size=rng.integers(3, 5)))
        Ws = [rng.normal(size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
        bs = [rng.normal(size=(b, 1)) for b in sizes[1:]]
        m = int(rng.integers(1, 6))
        X, Y = rng.normal(size=(sizes[0], m)), rng.dirichlet(np.ones(sizes[-1]), size=m).T
        dWs, dbs = optim.backprop(Ws, bs, X, Y)
        for l in range(len(Ws)):
            gW = complex_step_gradient(lambda W: optim.cost(Ws[:l] + [W] + Ws[l + 1:], bs, X, Y), Ws[l])
            gb = complex_step_gradient(lambda b: optim.cost(Ws, bs[:l] + [b] + bs[l + 1:], X, Y), bs[l])
            assert relative_error(dWs[l], gW) < 1e-12 and relative_error(dbs[l], gb) < 1e-12


def test_surface_critical_points_and_eta_max():
    deep, saddle, shallow = optim.critical_points()
    for p in (deep, saddle, shallow):
        assert np.allclose(optim.surface_grad(p), 0.0, atol=1e-12)
    assert optim.surface(deep) < optim.surface(shallow) < optim.surface(saddle)
    assert np.linalg.eigvalsh(optim.surface_hessian(saddle))[0] < 0 < np.linalg.eigvalsh(optim.surface_hessian(saddle))[1]
    # plain descent just below eta_max settles in the deep minimum, just above it does not
    start = deep + np.array([1e-3, 0.0])
    below = optim.descend(optim.sgd_step, start, {"eta": 0.999 * optim.eta_max()}, 20000)[-1]
    above = optim.descend(optim.sgd_step, start, {"eta": 1.001 * optim.eta_max()}, 20000)[-1]
    assert abs(below[0] - deep[0]) < 1e-8 and abs(above[0] - deep[0]) > 1e-3


def test_notebook_settings_are_the_checks_settings():
    src = "\n".join("".join(c["source"]) for c in json.loads(SOURCE.read_text())["cells"])
    assert f"STARTS = {nb07.STARTS!r}" in src
    assert 'SETTINGS = {"sgd": (sgd_step, {"eta": 0.05}, 300), "momentum": (momentum_step, {"eta": 0.05, "beta": 0.9}, 300)}' in src
    assert {k: (v[0], v[1], v[2]) for k, v in nb07.SETTINGS.items()} == {
        "sgd": ("sgd_step", {"eta": 0.05}, 300), "momentum": ("momentum_step", {"eta": 0.05, "beta": 0.9}, 300)}
    # every run of the computed answer ends well inside its valley, never near the saddle
    for label, (name, hyper, steps) in nb07.SETTINGS.items():
        for p0 in nb07.STARTS:
            end = optim.descend(optim.OPTIMIZERS[name[:-5]], p0, hyper, steps)[-1]
            assert min(abs(end[0] - x) for x in (optim.critical_points()[0][0], optim.critical_points()[2][0])) < 1e-3


# ---------------------------------------------------------------- the bug zoo of notebook 07


def softmax_unshifted(Z):
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def softmax_global_shift(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=0, keepdims=True)


def softmax_rows(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_in_place(Z):
    Z -= Z.max(axis=0, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


@pytest.mark.parametrize("fn,words", [
    (softmax_unshifted, ["softmax not shifted: overflow on large logits"]),
    (softmax_global_shift, ["softmax not shifted", "each column's largest logit"]),
    (softmax_rows, ["each column"]),
    (softmax_in_place, ["changed the array it was given"]),
    (lambda Z: np.full(np.shape(Z), np.nan), ["NaN"]),
    (lambda Z: optim.softmax(Z)[:, :1], ["shape"]),
    (lambda Z: None, ["None"]),
])
def test_softmax_slips_are_named(fn, words):
    fails(nb07.check_softmax, fn, *words)


def test_cross_entropy_slips_are_named():
    fails(nb07.check_cross_entropy, lambda A, Y: -np.sum(Y * np.log(A)), "times too large")
    fails(nb07.check_cross_entropy, lambda A, Y: np.sum(Y * np.log(A)) / A.shape[1], "wrong sign")


def _bp(delta_fn):
    return lambda Ws, bs, X, Y: optim.backprop(Ws, bs, X, Y, output_delta=delta_fn)


@pytest.mark.parametrize("delta,words", [
    (lambda zs, acts, Y, m: mlp.sigmoid_prime(zs[-1]) * (acts[-1] - Y) / m, ["still has the sigmoid's slope"]),
    (lambda zs, acts, Y, m: acts[-1] * (1 - acts[-1]) * (acts[-1] - Y) / m, ["still has the sigmoid's slope"]),
    (lambda zs, acts, Y, m: 2 * (acts[-1] - Y) / m, ["squared error's"]),
    (lambda zs, acts, Y, m: (Y - acts[-1]) / m, ["sign error"]),
])
def test_backprop_slips_are_named(delta, words):
    fails(nb07.check_backprop, _bp(delta), *words)


ADAM_SLIPS = {"no_correction": "missing bias correction", "no_sqrt": "missing square root",
              "eps_inside": "eps in the wrong place", "eps_uncorrected": "eps in the wrong place",
              "reset": "state reset every step", "t_fixed": "does not advance",
              "no_m_correction": "bias correction of m", "no_v_correction": "bias correction of v"}
RMS_SLIPS = {"no_sqrt": "missing square root", "eps_inside": "eps in the wrong place", "reset": "state reset every step",
             "no_one_minus": "(1 - rho)"}
MOMENTUM_SLIPS = {"reset": "state reset every step", "sign": "subtracted"}


@pytest.mark.parametrize("bug", ADAM_SLIPS)
def test_adam_slips_are_named(bug):
    fails(nb07.check_adam, nb07_optim._adam(bug), ADAM_SLIPS[bug])


@pytest.mark.parametrize("bug", RMS_SLIPS)
def test_rmsprop_slips_are_named(bug):
    fails(nb07.check_rmsprop, nb07_optim._rms(bug), RMS_SLIPS[bug])


@pytest.mark.parametrize("bug", MOMENTUM_SLIPS)
def test_momentum_slips_are_named(bug):
    fails(nb07.check_momentum, nb07_optim._momentum(bug), MOMENTUM_SLIPS[bug])


def test_optimizer_bad_returns_are_explained():
    fails(nb07.check_adam, lambda p, g, s, h: None, "forget the `return`")
    fails(nb07.check_adam, lambda p, g, s, h: optim.adam_step(p, g, s, h)[0], "pair")
    fails(nb07.check_momentum, lambda p, g, s, h: (optim.momentum_step(p, g, s, h)[0], None), "returned None as its state")


def test_schedule_and_answers_slips():
    fails(nb07.check_schedule, lambda k, e0, emin, K: emin + 0.5 * (e0 - emin) * (1 + np.cos(np.pi * k / K)),
          "stays at eta_min")
    fails(nb07.check_eta_max, 1 / (12 * optim.critical_points()[0][0] ** 2 - 4), "1/curvature")
    fails(nb07.check_eta_max, 1.0, "y direction")
    wrong = nb07._reference_ends()
    wrong["momentum"] = ["deep"] * len(nb07.STARTS)
    fails(nb07.check_ends, wrong, 'ends["momentum"] is wrong')


def descend_reset(step, p0, hyper, steps):
    return optim.descend(lambda p, g, s, h: step(p, g, None, h), p0, hyper, steps)


def test_loops_that_reset_the_state_are_named():
    fails(nb07.check_descend, descend_reset, "state is reset every step")
    fails(nb07.check_fit, lambda *a: optim.fit(*a, reset_state=True), "state is reset every step")


def test_digits_check_explains_a_bad_network():
    def bad_fit(X, Y, sizes, step, hyper, epochs, batch_size, seed):
        Ws, bs = mlp.init_params(sizes, np.random.default_rng(seed))
        return Ws, bs, [1.0] * epochs
    fails(nb07.check_digits, bad_fit, "held-out digits")


# ---------------------------------------------------------------- false rejects: correct answers written differently


def momentum_pytorch(params, grads, state, hyper):
    """v <- beta v + g; theta <- theta - eta v (PyTorch's form): the same steps for a fixed eta."""
    vs = [np.zeros_like(p) for p in params] if state is None else state
    vs = [hyper["beta"] * v + g for v, g in zip(vs, grads)]
    return [p - hyper["eta"] * v for p, v in zip(params, vs)], vs


def adam_in_place(params, grads, state, hyper):
    """Adam written with in-place updates of its own state and the corrections folded differently."""
    if state is None:
        state = [0, [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]]
    state[0] += 1
    t, ms, vs = state
    out = []
    for p, g, m, v in zip(params, grads, ms, vs):
        m *= hyper["beta1"]
        m += (1 - hyper["beta1"]) * g
        v *= hyper["beta2"]
        v += (1 - hyper["beta2"]) * np.square(g)
        denom = np.sqrt(v) / np.sqrt(1 - hyper["beta2"] ** t) + hyper["eps"]
        out.append(p - (hyper["eta"] / (1 - hyper["beta1"] ** t)) * m / denom)
    return out, state


def rmsprop_folded(params, grads, state, hyper):
    s = [np.zeros_like(p) for p in params] if state is None else state["s"]
    s = [x + (1 - hyper["rho"]) * (g ** 2 - x) for x, g in zip(s, grads)]
    return [p - hyper["eta"] * g / (s_ ** 0.5 + hyper["eps"]) for p, g, s_ in zip(params, grads, s)], {"s": s}


REPEATS = 200


@pytest.mark.parametrize("check,fn", [
    (nb07.check_momentum, momentum_pytorch), (nb07.check_momentum, optim.momentum_step),
    (nb07.check_rmsprop, rmsprop_folded), (nb07.check_rmsprop, optim.rmsprop_step),
    (nb07.check_adam, adam_in_place), (nb07.check_adam, optim.adam_step),
    (nb07.check_softmax, optim.softmax), (nb07.check_schedule, optim.cosine_schedule),
    (nb07.check_cross_entropy, optim.cross_entropy), (nb07.check_backprop, optim.backprop),
    (nb07.check_descend, optim.descend),
], ids=lambda x: getattr(x, "__name__", ""))
def test_correct_answers_pass_many_random_cases(check, fn):
    for _ in range(REPEATS // 5 if check is nb07.check_backprop else REPEATS):
        check(fn)


def test_fit_reference_passes_repeatedly():
    for _ in range(20):
        nb07.check_fit(optim.fit)


def test_measured_step_error_is_far_below_the_tolerance():
    """The largest relative error of a correct, differently written optimizer over 2,000 cases: the tolerance must be
    at least 1,000 times larger (measured: 1.4e-13 for Adam, 2e-14 for the others, against STEP_TOL = 1e-9)."""
    worst = 0.0
    for fn, ref, name in [(adam_in_place, optim.adam_step, "adam_step"),
                          (momentum_pytorch, optim.momentum_step, "momentum_step"),
                          (rmsprop_folded, optim.rmsprop_step, "rmsprop_step")]:
        for _ in range(2000 // 3):
            case = Case()
            params, grads, hyper = nb07_optim._problem(name, case)
            got = nb07_optim.run_steps(fn, params, grads, hyper)
            want = nb07_optim.run_steps(ref, params, grads, hyper)
            dg = [[x - p for x, p in zip(g, params)] for g in got]
            dw = [[x - p for x, p in zip(w, params)] for w in want]
            worst = max(worst, nb07_optim._steps_error(dg, dw))
    assert worst * 1000 < nb07_optim.STEP_TOL, worst


def test_shrunk_digits_run_clears_the_bar_on_every_seed():
    """The reference's accuracy in the hidden test's shrunk run, over 100 seeds, stays well above (min 0.81 measured) DIGITS_PASS."""
    X_train, y_train, X_test, y_test = nb07._digits()
    run = nb07.DIGITS_RUN
    accs = []
    for seed in range(100):
        Ws, bs, _ = optim.fit(X_train[:, :run["n"]], mlp.one_hot(y_train[:run["n"]]), [784, 16, 16, 10],
                              optim.adam_step, run["hyper"], run["epochs"], run["batch_size"], seed)
        accs.append(float(np.mean(np.argmax(optim.forward(Ws, bs, X_test)[1][-1], axis=0) == y_test)))
    assert min(accs) > nb07.DIGITS_PASS + 0.05, (min(accs), np.mean(accs))


# ---------------------------------------------------------------- the notebook's solution equals the reference


@pytest.fixture(scope="module")
def ns07():
    from test_reference_matches_solutions import solution_namespace
    return solution_namespace("07_optimizers")


def test_notebook_solution_equals_reference(ns07):
    rng = np.random.default_rng(1)
    for _ in range(20):
        sizes = list(rng.integers(2, 6, size=rng.integers(3, 5)))
        Ws, bs = mlp.init_params(sizes, rng)
        X, Y = rng.normal(size=(sizes[0], 5)), np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], size=5)]
        for got, want in zip(ns07["backprop"](Ws, bs, X, Y), optim.backprop(Ws, bs, X, Y)):
            assert all(np.allclose(g, w, rtol=1e-12, atol=1e-15) for g, w in zip(got, want))
        assert np.isclose(ns07["cost"](Ws, bs, X, Y), optim.cost(Ws, bs, X, Y), rtol=1e-12)
    for name in ("momentum_step", "rmsprop_step", "adam_step"):
        case = Case(seed=5)
        params, grads, hyper = nb07_optim._problem(name, case)
        for g, w in zip(nb07_optim.run_steps(ns07[name], params, grads, hyper),
                        nb07_optim.run_steps(optim.OPTIMIZERS[name[:-5]], params, grads, hyper)):
            assert all(np.allclose(a, b, rtol=1e-13, atol=0) for a, b in zip(g, w))
    assert ns07["ends"] == nb07._reference_ends()
    assert np.isclose(ns07["eta_max"], optim.eta_max(), rtol=1e-12)


# ---------------------------------------------------------------- layout (the rules 04 and 05 follow)


def _cells():
    return json.loads(SOURCE.read_text())["cells"]


def test_parts_points_and_test_titles_agree():
    cells = _cells()
    md = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    headings = {k: float(v) for k, v in re.findall(r"^## Part ([A-Z]) \((\d+) points?\)", md, re.M)}
    labels = {k: float(v) for k, v in re.findall(r"\*\*([A-Z]\.\d+) \((\d+) points?", md)}
    written = {k: float(v) for k, v in re.findall(r"\*\*Part ([A-Z]) \((\d+) points?, written", md)}
    per_label, per_part = defaultdict(float), defaultdict(float)
    n_written = 0
    for c in cells:
        meta = c.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue
        if c["cell_type"] == "markdown":
            n_written += 1
            assert meta["grade_id"].startswith("written_") and meta["points"] in written.values()
            continue
        title = re.match(r'"""Part ([A-Z](?:\.\d+)?): .*\((\d+) points?\)"""', "".join(c["source"]))
        assert title, meta["grade_id"]
        assert float(title.group(2)) == meta["points"], meta["grade_id"]
        per_label[title.group(1)] += meta["points"]
        per_part[title.group(1)[0]] += meta["points"]
    assert n_written == len(written) == 1
    assert headings == dict(per_part)
    for label, points in per_label.items():
        if "." in label:
            assert labels.get(label) == points, label


def test_given_code_cells_are_read_only_and_demo_written_exists():
    for i, c in enumerate(_cells()):
        meta = c.get("metadata", {}).get("nbgrader", {})
        if c["cell_type"] == "code" and not meta.get("solution") and not meta.get("grade"):
            assert meta.get("locked") is True and meta.get("grade_id"), f"cell {i}"
        if c["cell_type"] == "markdown" and not meta.get("solution"):
            assert meta.get("locked") is True, f"markdown cell {i} is not locked"
    written = [c["metadata"]["nbgrader"]["grade_id"] for c in _cells()
               if c["cell_type"] == "markdown" and c["metadata"].get("nbgrader", {}).get("solution")]
    assert sorted(nb07.DEMO_WRITTEN) == sorted(written)
