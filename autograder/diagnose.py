"""Name the bug from the shape of the mismatch between a student's gradient and the numerical one.

The signatures come from sigmoid networks with squared-error cost (issue "An autograder that names the bug"):
a constant ratio of -1 is a sign error, 2 or 1/2 a factor-of-two slip, m a missing 1/m, a ratio near 1 with an error
around 1e-2 a derivative taken at the wrong point, and so on. ``diagnose`` returns one sentence for the feedback.
"""
from __future__ import annotations

import numpy as np


def constant_ratio(got: np.ndarray, want: np.ndarray, spread: float = 1e-3) -> float | None:
    """The ratio got/want when it is the same for every entry that matters, else None."""
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    scale = np.max(np.abs(want)) if want.size else 0.0
    if scale == 0.0:
        return None
    mask = np.abs(want) > 1e-6 * scale
    if not np.any(mask):
        return None
    r = got[mask] / want[mask]
    c = float(np.median(r))
    if np.all(np.abs(r - c) <= spread * max(1.0, abs(c))):
        return c
    return None


def _near(x: float, target: float, tol: float = 1e-3) -> bool:
    return abs(x - target) <= tol * max(1.0, abs(target))


def diagnose(got: np.ndarray, want: np.ndarray, batch_size: int | None = None) -> str:
    """One sentence saying what the mismatch between ``got`` and ``want`` most likely means."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if not np.any(got):
        return "Diagnosis: it is all zeros; is the gradient computed and returned, not just initialised?"
    ratio = constant_ratio(got, want)
    if ratio is not None:
        if _near(ratio, -1.0):
            return ("Diagnosis: sign error. Your values are exactly the negative of the true gradient; check dC/da: "
                    "for C = (y - a)^2 it is 2(a - y), not 2(y - a).")
        if _near(ratio, 2.0):
            return "Diagnosis: factor of 2 too large. Check the 2 from differentiating the square, or a 1/2 in the cost."
        if _near(ratio, 0.5):
            return "Diagnosis: factor of 2 too small. The square in C = (y - a)^2 gives a factor 2 when differentiated."
        if batch_size and batch_size > 1 and _near(ratio, float(batch_size)):
            return (f"Diagnosis: {batch_size} times too large, the batch size. The cost is an average over the batch, "
                    "so the gradient needs the 1/m too.")
        if batch_size and batch_size > 1 and _near(ratio, 1.0 / batch_size):
            return f"Diagnosis: {batch_size} times too small, the batch size. Average once, not twice."
        return f"Diagnosis: every entry is off by the same factor {ratio:.4g}: a constant factor is missing or extra."
    err = np.linalg.norm(got - want) / (np.linalg.norm(got) + np.linalg.norm(want))
    same_sign = np.mean(np.sign(got) == np.sign(want))
    if err < 5e-2 and same_sign > 0.9:
        return ("Diagnosis: close but not exact. A derivative is probably evaluated at the wrong point, for example "
                "sigma'(a) instead of sigma'(z), or a step that is too coarse.")
    return "Diagnosis: no simple pattern. Compare each factor of the chain rule with a numerical slope, one at a time."
