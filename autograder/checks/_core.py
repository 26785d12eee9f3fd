"""What every hidden test shares: fresh random cases, safe calls into student code, and comparisons that explain.

A hidden test cell calls one ``check_*`` function. It either returns quietly or raises ``AssertionError`` whose message
is the feedback the student reads: which quantity, what was expected, what the mismatch looks like (see
``autograder.checks.diagnose``), and the seed that reproduces the case for the instructor.
"""
from __future__ import annotations

import functools
import os
import secrets
import warnings
from typing import Any, Callable

import numpy as np

from .diagnose import diagnose
from .numgrad import relative_error
from ..protocol.client import JUDGE_ENV, ask_judge
from ..protocol.wire import RemoteError

#: Gradients must match central differences to this relative error (float64 throughout).
TOLERANCE = 1e-6
#: Central differences carry a round-off error near 1e-10 in absolute terms, so relative errors are taken against at
#: least this norm: a gradient whose entries are all below ~1e-5 is judged to ~1e-10 absolute instead.
NORM_FLOOR = 1e-4


class Case:
    """One randomized test case: a seed drawn at grading time and a float64 generator built from it.

    ``Case.drawn`` counts every case made in this process, so ``selftest --repeat`` can report how many random cases
    each check judged (it reads the count before and after a test cell)."""

    drawn = 0

    def __init__(self, seed: int | None = None):
        Case.drawn += 1
        self.seed = secrets.randbits(32) if seed is None else int(seed)
        self.rng = np.random.Generator(np.random.PCG64(self.seed))

    def normal(self, *shape: int, scale: float = 1.0) -> np.ndarray:
        return self.rng.normal(0.0, scale, size=shape).astype(np.float64)

    def nonzero(self, *shape: int, low: float = 0.1, high: float = 1.0) -> np.ndarray:
        """Values bounded away from zero, with random signs: biases in hidden tests are never zero."""
        mag = self.rng.uniform(low, high, size=shape)
        sign = self.rng.choice([-1.0, 1.0], size=shape)
        return (mag * sign).astype(np.float64)

    def integer(self, low: int, high: int) -> int:
        """An int in [low, high]."""
        return int(self.rng.integers(low, high + 1))

    def __str__(self) -> str:
        return f"case seed {self.seed}"


def call(name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the student's ``fn`` and turn every way it can go wrong into one readable AssertionError.

    Numerical warnings (overflow, invalid value, ...) become failures with a message: left alone they would reach
    stderr, and nbgrader scores any cell that writes to stderr zero without saying why.
    """
    if not callable(fn):
        raise AssertionError(f"`{name}` should be a function, but it is {type(fn).__name__}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return fn(*args, **kwargs)
    except RemoteError as e:  # the student's function ran in the kernel, and raised there
        if e.etype == "NotImplementedError":
            raise AssertionError(f"`{name}` is not implemented yet: replace `raise NotImplementedError()` with your code.") from None
        if e.etype in ("RuntimeWarning", "FloatingPointError"):
            raise AssertionError(f"`{name}` raised a numerical warning: {e}. Rewrite it so it stays finite and silent.") from None
        if e.etype == "KeyboardInterrupt":
            raise AssertionError(f"`{name}` was interrupted: it ran past the time limit.") from None
        raise AssertionError(f"`{name}` raised {e.etype}: {e}") from None
    except NotImplementedError:
        raise AssertionError(f"`{name}` is not implemented yet: replace `raise NotImplementedError()` with your code.") from None
    except (RuntimeWarning, FloatingPointError) as w:
        raise AssertionError(f"`{name}` raised a numerical warning: {w}. Rewrite it so it stays finite and silent.") from None
    except AssertionError:
        raise
    except Exception as e:  # the student's own bug: show its type and message, not our stack
        raise AssertionError(f"`{name}` raised {type(e).__name__}: {e}") from None


def as_float_array(name: str, value: Any) -> np.ndarray:
    """Convert a student's result to a float64 array, or explain why it cannot be one."""
    if value is None:
        raise AssertionError(f"{name} is None: did you forget a `return`?")
    try:
        arr = np.asarray(value)
    except Exception as e:  # ragged lists and the like
        raise AssertionError(f"{name} could not be read as an array ({e}).") from None
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise AssertionError(f"{name} should be numbers, but has dtype {arr.dtype}.")
    if np.iscomplexobj(arr):
        raise AssertionError(f"{name} should be real numbers, but is complex.")
    return arr.astype(np.float64)


def compare(name: str, got: Any, want: np.ndarray, case: Case | None = None, tol: float = TOLERANCE,
            batch_size: int | None = None) -> None:
    """Assert that ``got`` equals the reference ``want`` (shape and values), explaining any mismatch."""
    want = np.asarray(want, dtype=np.float64)
    got = as_float_array(name, got)
    where = f" ({case})" if case is not None else ""
    if got.shape != want.shape:
        hint = ""
        if got.ndim == 2 and got.shape[::-1] == want.shape:
            hint = " It is the transpose of the right shape: check the order of the factors, or a missing .T."
        elif got.size == want.size:
            hint = " It has the right number of entries: check the axis you sum or reshape along."
        raise AssertionError(f"{name} has shape {got.shape}, expected {want.shape}.{hint}{where}")
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"{name} contains NaN or inf.{where}")
    err = relative_error(got, want, floor=NORM_FLOOR)
    if err > tol:
        explanation = diagnose(got, want, batch_size=batch_size)
        raise AssertionError(
            f"{name} is wrong: relative error {err:.2e} against the numerical gradient (tolerance {tol:.0e}). "
            f"{explanation}{where}"
        )


def check_scalar(name: str, value: Any) -> float:
    """A result that must be a single number (Python float, numpy scalar or size-1 array)."""
    arr = as_float_array(name, value)
    if arr.size != 1:
        raise AssertionError(f"{name} should be a single number, but has shape {arr.shape}.")
    return float(arr.reshape(()))


def mapping(name: str, value: Any, keys: list[str]) -> dict:
    """A result that must be a dict holding at least ``keys``."""
    if not isinstance(value, dict):
        raise AssertionError(f"{name} should be a dict with keys {keys}, but is {type(value).__name__}.")
    missing = [k for k in keys if k not in value]
    if missing:
        raise AssertionError(f"{name} is missing the keys {missing}.")
    return value


def float_copies(arrays) -> list[np.ndarray]:
    """Fresh float64 copies of a list of parameter arrays, so a student's in-place update cannot touch the case."""
    return [np.array(a, dtype=np.float64, copy=True) for a in arrays]


def layer_pair(name: str, out: Any, n_layers: int, what: str = "a pair of lists (one entry per layer)"):
    """A result that must be two lists with one array per layer, such as (dWs, dbs) or (Ws, bs)."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise AssertionError(f"{name} should return {what}.")
    a, b = out
    if not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b) == n_layers):
        raise AssertionError(f"{name} should return two lists with one array per layer ({n_layers} layers).")
    return list(a), list(b)


def repeat(check: Callable[[Case], None], times: int = 5) -> None:
    """Run ``check`` on ``times`` fresh random cases: one lucky draw must not pass a wrong answer."""
    for _ in range(times):
        check(Case())


def compare_group(label: str, names: list[str], got: dict, want: dict, case: Case | None = None,
                  tol: float = TOLERANCE) -> None:
    """Compare named scalars as one vector (one parameter group), then name the entries that are off.

    Judging a group at once keeps a single near-zero derivative from failing a correct answer on round-off alone.
    """
    g = np.array([check_scalar(f"d/d{n}", got[n]) for n in names])
    w = np.array([float(want[n]) for n in names])
    try:
        compare(label, g, w, case, tol)
    except AssertionError as e:
        scale = max(np.linalg.norm(g) + np.linalg.norm(w), NORM_FLOOR)
        off = [n for n, gi, wi in zip(names, g, w) if abs(gi - wi) > tol * scale]
        raise AssertionError(f"{str(e)} Wrong entries: {', '.join(off) or 'spread over all'}.") from None


# ---------------------------------------------------------------- routing hidden checks to the judge


def remote_checks(namespace: dict) -> None:
    """Route every ``check_*`` function of a checks module to the judge when one is running.

    Call it at the end of each checks module: ``remote_checks(globals())``. With ``BACKPROP_JUDGE`` unset (solutions,
    selftest, plain ``nbgrader autograde``) the check runs here, in the kernel, as written.
    """
    module = namespace["__name__"].rsplit(".", 1)[-1]
    for name, fn in list(namespace.items()):
        if name.startswith("check_") and callable(fn) and not hasattr(fn, "__wrapped__"):
            namespace[name] = _routed(f"{module}.{name}", fn)


def _routed(check_name: str, fn: Callable) -> Callable:
    @functools.wraps(fn)
    def routed(*args):
        address = os.environ.get(JUDGE_ENV)
        if not address:
            return fn(*args)
        return ask_judge(address, check_name, args)
    return routed


_DIGITS = None


def digits():
    """The digits (course/digits.py: X_train, y_train, X_test, y_test), loaded once per process for the checks."""
    global _DIGITS
    if _DIGITS is None:
        from course.digits import load_mnist
        _DIGITS = load_mnist()
    return _DIGITS


class Given:
    """A judge-side function handed to the student's function in place of one of their earlier parts (it crosses to
    the kernel as a callable), counting its calls, so that a run that never used it can be told so."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def unused(given: Given, name: str, param: str, what: str) -> None:
    """Fail when the student's ``name`` never called the function passed as ``param`` (``what`` it stands for)."""
    if not given.calls:
        raise AssertionError(f"{name} never called the `{param}` it was given: the hidden test passes a correct "
                             f"{what} there, so that this part is graded on its own. Start with the given line "
                             f"`{param} = ... if {param} is None else {param}` and use `{param}`, not the global name.")


def rediagnosed(message: str, hint: str, case) -> str:
    """``message`` with what follows its "Diagnosis:" replaced by ``hint`` (and the case); unchanged without a hint."""
    if hint and "Diagnosis:" in message:
        return message.partition("Diagnosis:")[0] + "Diagnosis:" + hint + f" ({case})"
    return message


#: The digits network of notebooks 06 and 07 (784-16-16-10): its weight shapes, then its bias shapes.
DIGIT_SHAPES = [(16, 784), (16, 16), (10, 16), (16, 1), (16, 1), (10, 1)]


def digit_params(Ws, bs) -> tuple[list, list]:
    """The trained parameters of the digits network, as float arrays, after checking their shapes."""
    shapes = [np.shape(W) for W in Ws] + [np.shape(b) for b in bs]
    if shapes != DIGIT_SHAPES:
        raise AssertionError(f"the trained parameters have shapes {shapes}, expected {DIGIT_SHAPES}.")
    return [as_float_array("W", W) for W in Ws], [as_float_array("b", b) for b in bs]
