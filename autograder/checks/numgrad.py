"""The course's one numerical-gradient implementation.

Every hidden test, in every notebook, compares a student's backprop with these central differences. Nothing here
imports student code, and everything is computed in float64 on copies, so the caller's arrays are never touched.
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
    g = np.full(x.shape, np.nan) if indices is not None else np.zeros(x.shape)
    if indices is None:
        indices = np.ndindex(x.shape)
    for idx in indices:
        idx = tuple(idx)
        old = x[idx]
        x[idx] = old + eps
        f_plus = float(f(x))
        x[idx] = old - eps
        f_minus = float(f(x))
        x[idx] = old
        g[idx] = (f_plus - f_minus) / (2.0 * eps)
    return g


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
