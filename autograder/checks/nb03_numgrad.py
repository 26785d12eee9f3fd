"""Notebook 03's checks of Parts A and B: the student's numerical gradient, relative error and eps sweep, tried on
functions the student has never seen. Imported into nb03, which routes them to the judge under its own name."""
from __future__ import annotations

import math

import numpy as np

from ..reference import mlp
from .diagnose import constant_ratio
from .numgrad import numerical_gradient as ref_numgrad
from .numgrad import relative_error as ref_relerr
from ._core import Case, as_float_array, call, check_scalar, compare, repeat

# ---------------------------------------------------------------- Part A: the numerical gradient


def _test_functions(case: Case):
    """(description, f, x, true gradient) for functions the student has never seen."""
    shape = [(case.integer(2, 7),), (case.integer(1, 4), case.integer(2, 4)),
             (2, case.integer(1, 3), case.integer(2, 3))][case.integer(0, 2)]
    x = case.normal(*shape)
    a, c = float(case.normal(1)[0]), float(case.normal(1)[0])
    n = case.integer(2, 5)
    A = case.normal(n, n)
    v = case.normal(n)
    Ws = [case.normal(3, 2), case.normal(2, 3)]
    bs = [case.nonzero(3, 1), case.nonzero(2, 1)]
    X, Y = case.normal(2, 4), case.rng.uniform(0.1, 0.9, size=(2, 4))
    return [
        (f"sum(a sin x + c x^3 / 3) on shape {shape}", lambda t: float(np.sum(a * np.sin(t) + c * t ** 3 / 3.0)), x,
         a * np.cos(x) + c * x ** 2),
        ("the quadratic form x . A x", lambda t: float(t @ A @ t), v, (A + A.T) @ v),
        ("sum(log cosh x)", lambda t: float(np.sum(np.log(np.cosh(t)))), x, np.tanh(x)),
        ("a network's cost as a function of its first weight matrix",
         lambda W: mlp.cost([W, Ws[1]], bs, X, Y, "tanh"), Ws[0], mlp.backprop(Ws, bs, X, Y, "tanh")[0][0]),
    ]


def _counted(f):
    calls = [0]

    def g(t):
        calls[0] += 1
        return f(t)
    return g, calls


def check_numerical_gradient(numerical_gradient) -> None:
    """Central differences of unseen functions, to 1e-6, with 2 evaluations per entry."""
    def one(case: Case) -> None:
        for what, f, x, want in _test_functions(case):
            g, calls = _counted(f)
            got = call("numerical_gradient", numerical_gradient, g, x.copy(), 1e-6)
            try:
                compare(f"numerical_gradient of {what}", got, want, case, tol=1e-6)
            except AssertionError as e:
                ratio = constant_ratio(as_float_array("numerical_gradient", got), want) \
                    if np.shape(got) == np.shape(want) else None
                if ratio is not None and abs(ratio - 2.0) < 1e-3:
                    raise AssertionError(f"numerical_gradient of {what} is exactly twice the true gradient (a factor of 2 "
                                         "too large): the two points x + eps and x - eps are 2*eps apart, so divide "
                                         f"their difference by 2*eps. ({case})") from None
                extra = " (Divide by 2*eps once, not twice.)" if ratio is not None and abs(ratio - 0.5) < 1e-3 else ""
                raise AssertionError(f"{e}{extra}") from None
            if calls[0] > 2 * x.size + 1:
                raise AssertionError(f"numerical_gradient called f {calls[0]} times for {x.size} entries: central "
                                     f"differences need exactly 2 evaluations per entry, 2P in all. ({case})")
    repeat(one, times=3)


def check_numgrad_copy(numerical_gradient) -> None:
    """Works on integer arrays (perturbs a float copy), never changes the caller's array, not even temporarily."""
    def one(case: Case) -> None:
        xi = case.rng.integers(-3, 4, size=(case.integer(2, 4), case.integer(1, 3)))
        before = xi.copy()
        k = float(case.rng.uniform(0.5, 2.0))
        f = lambda t: float(np.sum(k * np.asarray(t, dtype=np.float64) ** 2 + np.sin(t)))  # noqa: E731
        touched = [False]

        def watch(t):
            if not np.array_equal(xi, before):
                touched[0] = True
            return f(t)
        got_int = as_float_array("numerical_gradient(f, an integer array)",
                                 call("numerical_gradient", numerical_gradient, watch, xi, 1e-6))
        if xi.dtype != before.dtype or not np.array_equal(xi, before):
            raise AssertionError("numerical_gradient changed the array it was given: work on a float copy, "
                                 f"np.array(x, dtype=np.float64). ({case})")
        got_float = as_float_array("numerical_gradient(f, x)", call("numerical_gradient", numerical_gradient, f,
                                                                     before.astype(np.float64), 1e-6))
        if got_int.shape != before.shape:
            raise AssertionError(f"numerical_gradient returned shape {got_int.shape} for an input of shape "
                                 f"{before.shape}. ({case})")
        if not np.allclose(got_int, got_float, rtol=1e-9, atol=1e-9):
            hint = (" It is all zeros: x + eps was rounded back to the integer x. Perturb a float copy."
                    if not np.any(got_int) else "")
            raise AssertionError("numerical_gradient gives different answers for an integer array and the same "
                                 f"values as floats.{hint} ({case})")
        if touched[0]:
            raise AssertionError("numerical_gradient perturbed the caller's own array while evaluating f (it was "
                                 "restored afterwards, but if f raised it would stay changed). Perturb a float "
                                 f"copy. ({case})")
        xf = case.normal(3, 2)
        saved = xf.copy()
        call("numerical_gradient", numerical_gradient, f, xf, 1e-6)
        if not np.array_equal(xf, saved):
            raise AssertionError("numerical_gradient left the caller's float array changed: restore each entry, or "
                                 f"better, work on a copy. ({case})")
    repeat(one, times=3)


def check_relative_error(relative_error) -> None:
    def one(case: Case) -> None:
        shape = (case.integer(1, 5), case.integer(1, 4))
        a = case.normal(*shape)
        b = a + case.normal(*shape, scale=float(10.0 ** case.rng.uniform(-8, 0)))
        want = np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))
        compare("relative_error(a, b)", check_scalar("relative_error(a, b)",
                                                     call("relative_error", relative_error, a, b)), want, case,
                tol=1e-10)
        got = check_scalar("relative_error(b, a)", call("relative_error", relative_error, b, a))
        compare("relative_error(b, a)", got, want, case, tol=1e-10)
        s = float(10.0 ** case.rng.uniform(-5, 5))
        compare("relative_error(s a, s b) (it should not depend on the scale)",
                check_scalar("relative_error", call("relative_error", relative_error, s * a, s * b)), want, case,
                tol=1e-8)
    repeat(one)
    z = np.zeros((3, 2))
    got = check_scalar("relative_error(0, 0)", call("relative_error", relative_error, z, z.copy()))
    if got != 0.0:
        raise AssertionError(f"relative_error of two zero arrays should be 0.0 (they agree), got {got}.")
    got = check_scalar("relative_error of different shapes",
                       call("relative_error", relative_error, np.ones((3, 1)), np.ones((1, 3))))
    if not (math.isinf(got) and got > 0):
        raise AssertionError("relative_error of arrays with different shapes should be inf: numpy would broadcast "
                             f"(3, 1) against (1, 3) and hide the mismatch. Got {got}.")


# ---------------------------------------------------------------- Part B: the eps sweep


def check_eps_sweep(eps_sweep) -> None:
    def one(case: Case) -> None:
        x = case.normal(case.integer(2, 6), scale=1.0)
        k = float(case.rng.uniform(1.0, 3.0))
        f = lambda t: float(np.sum(np.sin(k * t)))  # noqa: E731
        g = k * np.cos(k * x)
        epsilons = [1e-1, 1e-2, 1e-3, 1e-4, 1e-7, 1e-10]
        got = as_float_array("eps_sweep(...)", call("eps_sweep", eps_sweep, f, x.copy(), g.copy(), list(epsilons)))
        got = got.ravel()
        if got.size != len(epsilons):
            raise AssertionError(f"eps_sweep should return one relative error per eps: {len(epsilons)} values, got "
                                 f"{got.size}.")
        if not np.all(np.isfinite(got)) or np.any(got < 0):
            raise AssertionError("relative errors are finite and never negative.")
        # Truncation dominates for eps >= 1e-4, and there every correct implementation agrees.
        want = [ref_relerr(ref_numgrad(f, x, eps=e), g) for e in epsilons[:4]]
        if not np.allclose(got[:4], want, rtol=2e-2, atol=0.0):
            raise AssertionError(f"eps_sweep at eps = 1e-1 .. 1e-4 gave {got[:4]}, expected about {np.array(want)}: "
                                 f"each entry is relative_error(numerical_gradient(f, x, eps), g_true). ({case})")
    repeat(one, times=3)


def check_eps_choice(eps_choice) -> None:
    e = check_scalar("eps_choice", eps_choice)
    if not 1e-7 <= e <= 1e-4:
        raise AssertionError(f"eps_choice = {e:g} is outside the flat bottom of your sweep. Read the figure: where do "
                             "truncation and round-off error balance?")


