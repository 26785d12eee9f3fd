"""The course's one numerical-gradient implementation: central differences and the complex-step derivative.

Every hidden test, in every notebook, compares a student's backprop with a numerical derivative of a reference cost.
Nothing here imports student code, and everything is computed on float64 / complex128 copies, so the caller's arrays
are never touched.

Which one a check uses, and why:

* ``complex_step_gradient`` for a reference written with complex-safe operations (``autograder.reference``): the
  derivative of f at x is Im f(x + i h e_k) / h. Nothing is subtracted, so there is no cancellation, and with
  h = 1e-30 the truncation error (h^2 |f'''| / 6) is below 1e-55 relative: the result is the derivative to within
  the rounding of the tangent computation itself, a few ulps times the condition of the forward pass (below 1e-13
  relative against the analytic backprop in tests/test_false_rejects.py; no false reject in 100,000 cases per
  check of notebook 02). The hidden tests' tolerance (1e-6) is
  then about seven orders of magnitude above the reference's own error. It needs f analytic along the step: sigmoid,
  tanh, squares and sums are; ReLU written as z * [Re z > 0] is too, away from its kink, because a complex step never
  moves the real part.
* ``numerical_gradient`` (central differences) for functions given as black boxes (a student's ``f`` in notebook 03,
  the slopes of notebook 01).
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

#: Step used by the hidden tests. With float64 and smooth functions of size O(1), central differences at this step
#: leave a truncation error near 1e-12 and a round-off error near 1e-10, well below the 1e-6 tolerance.
DEFAULT_EPS = 1e-6


def numerical_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    eps: float = DEFAULT_EPS,
    indices: Iterable[tuple[int, ...]] | None = None,
) -> np.ndarray:
    """Central differences of a scalar function ``f`` at ``x``.

    Parameters
    ----------
    f : callable taking an array shaped like ``x`` and returning a scalar.
    x : array of any shape. It is copied to float64; ``x`` itself is never modified.
    eps : the step h in (f(x + h e_i) - f(x - h e_i)) / 2h.
    indices : optional iterable of index tuples. When given, only those entries are estimated and the rest of the
        returned array is NaN. Hidden tests on large networks check a sample of parameters this way.

    Returns
    -------
    g : float64 array with the shape of ``x``.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    g = _result(x, indices)
    for idx, old in _entries(x, indices):
        x[idx] = old + eps
        f_plus = float(f(x))
        x[idx] = old - eps
        f_minus = float(f(x))
        x[idx] = old
        g[idx] = (f_plus - f_minus) / (2.0 * eps)
    return g


def _result(x: np.ndarray, indices) -> np.ndarray:
    """The gradient array: zeros, or NaN outside ``indices`` when only some entries are estimated."""
    return np.full(x.shape, np.nan) if indices is not None else np.zeros(x.shape)


def _entries(x: np.ndarray, indices):
    """(index, original value) for every entry to estimate: all of ``x``, or ``indices``."""
    for idx in (np.ndindex(x.shape) if indices is None else indices):
        idx = tuple(idx)
        yield idx, x[idx]


#: Complex step. Any h far below sqrt(machine epsilon) * |x| makes the truncation error vanish in float64; 1e-30 keeps
#: h * f'(x) far above the smallest normal number (1e-308) for every derivative above 1e-270.
COMPLEX_STEP = 1e-30


def complex_step_gradient(
    f: Callable[[np.ndarray], complex],
    x: np.ndarray,
    indices: Iterable[tuple[int, ...]] | None = None,
    h: float = COMPLEX_STEP,
) -> np.ndarray:
    """Gradient of a real-analytic scalar function ``f`` at real ``x`` by the complex step: g_k = Im f(x + i h e_k) / h.

    ``f`` must accept a complex128 array shaped like ``x`` and return a (complex) scalar, using only analytic
    operations (no abs, no float() of intermediate values). ``indices`` as in ``numerical_gradient`` (NaN elsewhere).
    Error: O(h^2) truncation (nil in float64 at the default h) plus the rounding of f's tangent, a few ulps times the
    condition number of f's forward pass; no step-size trade-off, no cancellation.
    """
    x = np.array(x, dtype=np.complex128, copy=True)
    g = _result(x, indices)
    for idx, old in _entries(x, indices):
        x[idx] = old + 1j * h
        g[idx] = np.imag(complex(f(x))) / h
        x[idx] = old
    return g


def complex_step_derivative(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray, h: float = COMPLEX_STEP) -> np.ndarray:
    """Derivative of an elementwise analytic function at every entry of real ``z``: Im f(z + i h) / h."""
    z = np.asarray(z, dtype=np.float64)
    return np.imag(np.asarray(f(z + 1j * h), dtype=np.complex128)) / h


def elementwise_derivative(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray, eps: float = DEFAULT_EPS) -> np.ndarray:
    """Derivative of an elementwise function (an activation) at every entry of ``z``, by central differences."""
    z = np.asarray(z, dtype=np.float64)
    return (np.asarray(f(z + eps), dtype=np.float64) - np.asarray(f(z - eps), dtype=np.float64)) / (2.0 * eps)


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 0.0) -> float:
    """||a - b|| / max(||a|| + ||b||, floor), and 0.0 when the denominator is zero. Symmetric and scale-free.

    ``floor`` keeps a near-zero gradient from turning the round-off of a numerical estimate into a large ratio.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = max(np.linalg.norm(a) + np.linalg.norm(b), floor)
    if denom == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / denom)
