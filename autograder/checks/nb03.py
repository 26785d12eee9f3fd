"""Hidden-test checks for notebook 03, gradient checking.

The student's checker is tried on functions it has never seen (including integer arrays, which it must not perturb in
place), and on backprops with bugs planted at grading time (``autograder.diagnose.backprop_variant``), whose wrong
layers it must name. Timing functions are only checked for their structure: timings are never asserted.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import mlp
from ..diagnose import backprop_variant, constant_ratio, layer_errors
from ..numgrad import numerical_gradient as ref_numgrad
from ..numgrad import relative_error as ref_relerr
from ._core import remote_checks, Case, as_float_array, call, check_scalar, compare, mapping, repeat

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


# ---------------------------------------------------------------- Part C: checking a backprop


def _network(case: Case, sizes, m, act, min_norm=1e-2):
    """A network whose every gradient block is comfortably large, so relative errors without a floor are meaningful.
    None if 50 draws with these sizes all had a small gradient somewhere (the caller then draws new sizes)."""
    for _ in range(50):
        Ws = [case.normal(o, i, scale=1.5 / np.sqrt(i)) for i, o in zip(sizes[:-1], sizes[1:])]
        bs = [case.nonzero(o, 1, low=0.1, high=0.6) for o in sizes[1:]]
        X = case.normal(sizes[0], m)
        Y = case.rng.uniform(0.05, 0.95, size=(sizes[-1], m))
        dWs, dbs = mlp.backprop(Ws, bs, X, Y, act)
        if min(float(np.linalg.norm(g)) for g in dWs + dbs) >= min_norm:
            return Ws, bs, X, Y
    return None


def _cost_fn(act):
    return lambda Ws, bs, X, Y: mlp.cost(Ws, bs, X, Y, act)


def _backprop_fn(act, bug=None, layer=None):
    def bp(Ws, bs, X, Y):
        _, dWs, dbs = backprop_variant(Ws, bs, X, Y, act, bug=bug, layer=layer)
        return dWs, dbs
    return bp


def _names(L):
    return [f"W{l}" for l in range(1, L + 1)] + [f"b{l}" for l in range(1, L + 1)]


def _planted(case: Case):
    """A network, a backprop with one bug planted in one layer, and the set of parameters it gets wrong."""
    for _ in range(2000):
        act = ["sigmoid", "tanh"][case.integer(0, 1)]
        L = case.integer(2, 4)
        bug = ["no_transpose", "no_fprime_hidden", "bias_axis", "own_activation", "sign_layer"][case.integer(0, 4)]
        layer = case.integer(1, L - 1) if bug in ("no_transpose", "no_fprime_hidden") else case.integer(1, L)
        sizes = [case.integer(2, 5) for _ in range(L + 1)]
        if bug == "no_transpose":  # W^{layer+1} square, and every layer above too, so the bug runs
            for i in range(layer, L + 1):
                sizes[i] = sizes[layer]
        if bug == "own_activation":
            sizes[layer] = sizes[layer - 1]
        m = case.integer(2, 5)
        net = _network(case, sizes, m, act)
        if net is None:
            continue
        Ws, bs, X, Y = net
        if bug == "sign_layer":  # one layer's weight gradient with the wrong sign: only W^layer is wrong
            good = _backprop_fn(act)

            def buggy(Ws_, bs_, X_, Y_, _l=layer, _g=good):
                dWs, dbs = _g(Ws_, bs_, X_, Y_)
                dWs[_l - 1] = -dWs[_l - 1]
                return dWs, dbs
        else:
            buggy = _backprop_fn(act, bug, layer)
        try:
            bW, bb = buggy(Ws, bs, X, Y)
        except ValueError:
            continue
        gW, gb = mlp.backprop(Ws, bs, X, Y, act)
        errs = dict(zip(_names(L), layer_errors(bW, gW, floor=0.0) + layer_errors(bb, gb, floor=0.0)))
        if all(e < 1e-12 or e > 1e-3 for e in errs.values()) and any(e > 1e-3 for e in errs.values()):
            wrong = {k for k, e in errs.items() if e > 1e-3}
            return act, sizes, Ws, bs, X, Y, buggy, wrong, f"{bug} in layer {layer}"
    raise RuntimeError("could not plant a visible bug")


def _report(gradient_check, cost_fn, backprop_fn, Ws, bs, X, Y, L):
    Wc, bc = [W.copy() for W in Ws], [b.copy() for b in bs]
    rep = call("gradient_check", gradient_check, cost_fn, backprop_fn, Wc, bc, X.copy(), Y.copy())
    rep = mapping("gradient_check(...)", rep, _names(L))
    if not all(np.array_equal(a, b) for a, b in zip(Wc + bc, Ws + bs)):
        raise AssertionError("gradient_check changed the parameters it was given: perturb copies.")
    return {k: check_scalar(f"the relative error for {k}", rep[k]) for k in _names(L)}


def check_gradient_check(gradient_check) -> None:
    """The report of a correct backprop is all below 1e-6; for a planted bug it matches the true relative errors."""
    def one(case: Case) -> None:
        act, sizes, Ws, bs, X, Y, buggy, wrong, what = _planted(case)
        L = len(Ws)
        where = f"layer sizes {'-'.join(map(str, sizes))}, {act}, batch of {X.shape[1]}; {case}"
        rep = _report(gradient_check, _cost_fn(act), _backprop_fn(act), Ws, bs, X, Y, L)
        high = {k: v for k, v in rep.items() if not v <= 1e-6}
        if high:
            raise AssertionError(f"for a CORRECT backprop gradient_check reports relative errors {high}; they should "
                                 f"all be below 1e-6. Check numerical_gradient and how each parameter is perturbed "
                                 f"inside the cost. ({where})")
        rep = _report(gradient_check, _cost_fn(act), buggy, Ws, bs, X, Y, L)
        bW, bb = buggy(Ws, bs, X, Y)
        gW, gb = mlp.backprop(Ws, bs, X, Y, act)
        true = dict(zip(_names(L), layer_errors(bW, gW, floor=0.0) + layer_errors(bb, gb, floor=0.0)))
        for k in _names(L):
            t, g = true[k], rep[k]
            ok = (math.isinf(t) and math.isinf(g)) or (t < 1e-12 and g <= 1e-6) or \
                (np.isfinite(t) and t > 1e-3 and abs(g - t) <= 1e-3 * t)
            if not ok:
                raise AssertionError(f"for a backprop with a planted bug, the relative error of {k} should be "
                                     f"{t:.4g}, but gradient_check reports {g:.4g}. ({where})")
    repeat(one, times=4)


def check_wrong_parameters(wrong_parameters) -> None:
    def one(case: Case) -> None:
        L = case.integer(1, 4)
        rep = {}
        for k in _names(L):
            kind = case.integer(0, 3)
            rep[k] = [float(10.0 ** case.rng.uniform(-12, -7)), float(10.0 ** case.rng.uniform(-3, 0)),
                      float("inf"), 2e-6][kind]
        for tol, kwargs in ((1e-6, {}), (1e-5, {"tol": 1e-5})):
            got = call("wrong_parameters", wrong_parameters, dict(rep), **kwargs)
            if not isinstance(got, (list, tuple, set, frozenset)):
                raise AssertionError(f"wrong_parameters should return a list of names, got {type(got).__name__}.")
            want = {k for k, v in rep.items() if v > tol}
            if set(got) != want:
                raise AssertionError(f"wrong_parameters({rep}{', tol=1e-5' if kwargs else ''}) should name "
                                     f"{sorted(want)}, got {sorted(map(str, got))}.")
    repeat(one)


#: What the notebook's three planted bugs get wrong (network 3-4-4-2): A has no transpose in delta^1, B no sigma' in
#: delta^2, C sums layer 3's bias over the units.
PLANTED = {"A": {"W1", "b1"}, "B": {"W1", "b1", "W2", "b2"}, "C": {"b3"}}


def check_planted_bugs(flagged, gradient_check, wrong_parameters) -> None:
    flagged = mapping("flagged", flagged, list(PLANTED))
    for k, want in PLANTED.items():
        if not isinstance(flagged[k], (list, tuple, set, frozenset)) or set(flagged[k]) != want:
            raise AssertionError(f"flagged[{k!r}] should name the parameters whose gradient bug {k} gets wrong; got "
                                 f"{flagged[k]!r}. Run gradient_check on it and read the report.")

    def one(case: Case) -> None:
        act, sizes, Ws, bs, X, Y, buggy, wrong, what = _planted(case)
        rep = _report(gradient_check, _cost_fn(act), buggy, Ws, bs, X, Y, len(Ws))
        got = call("wrong_parameters", wrong_parameters, rep)
        if set(got) != wrong:
            raise AssertionError(f"on a backprop with a bug planted at grading time, your checker names {sorted(got)}; "
                                 f"the wrong gradients are {sorted(wrong)}. (layer sizes {'-'.join(map(str, sizes))}, "
                                 f"{act}; {case})")
    repeat(one, times=4)


def check_which_bug(which_bug) -> None:
    which_bug = mapping("which_bug", which_bug, ["A", "B", "C"])
    words = {"A": ("transpose",), "B": ("sigma", "σ", "prime", "derivative", "f'"), "C": ("bias", "axis")}
    for k, ws in words.items():
        text = str(which_bug[k]).lower()
        if not any(w in text for w in ws):
            raise AssertionError(f"which_bug[{k!r}] = {which_bug[k]!r} does not match the layers bug {k} gets wrong. "
                                 "A bug in the step that makes delta^m spoils layer m and every layer below it; a bug "
                                 "in the line that makes one gradient spoils only that one.")


# ---------------------------------------------------------------- Part D: what a numerical gradient costs


def check_growth_exponent(growth_exponent) -> None:
    def one(case: Case) -> None:
        P = np.sort(case.rng.uniform(10, 1e5, size=case.integer(3, 7)))
        k = float(case.rng.uniform(0.5, 2.5))
        t = 1e-5 * P ** k * np.exp(case.normal(P.size, scale=0.1))
        want = float(np.polyfit(np.log(P), np.log(t), 1)[0])
        got = check_scalar("growth_exponent", call("growth_exponent", growth_exponent, P.copy(), t.copy()))
        compare("growth_exponent (the slope of log t against log P)", got, want, case, tol=1e-8)
    repeat(one)


def check_timing_table(timing_table) -> None:
    widths = [2, 3]
    rows = call("timing_table", timing_table, widths, repeats=1)
    if not isinstance(rows, (list, tuple)) or len(rows) != len(widths):
        raise AssertionError(f"timing_table({widths}) should return one row per width, {len(widths)} rows.")
    for w, row in zip(widths, rows):
        if not (isinstance(row, (list, tuple)) and len(row) == 3):
            raise AssertionError("each row of timing_table is (P, seconds for backprop, seconds for numerical).")
        P = check_scalar("P", row[0])
        want = 3 * (w * w + w)
        if P != want:
            raise AssertionError(f"for width {w} and 3 layers of weights P should be 3 * ({w}*{w} + {w}) = {want}, "
                                 f"got {P:g}. Count weights and biases.")
        for name, t in (("backprop", row[1]), ("numerical", row[2])):
            t = check_scalar(f"the {name} time", t)
            if not (np.isfinite(t) and t > 0):
                raise AssertionError(f"the {name} time should be a positive number of seconds, got {t}.")


# ---------------------------------------------------------------- Part E: training


def _reference_training(cost_fn, bp, Ws, bs, X, Y, lr, steps):
    """Plain gradient descent. Returns (Ws, bs, costs, smallest gradient-block norm met before any step)."""
    Ws, bs = [W.copy() for W in Ws], [b.copy() for b in bs]
    costs, smallest = [], np.inf
    for _ in range(steps):
        dWs, dbs = bp(Ws, bs, X, Y)
        smallest = min(smallest, min(float(np.linalg.norm(g)) for g in dWs + dbs))
        Ws = [W - lr * g for W, g in zip(Ws, dWs)]
        bs = [b - lr * g for b, g in zip(bs, dbs)]
        costs.append(cost_fn(Ws, bs, X, Y))
    return Ws, bs, costs, smallest


def _run_train(train, *args, **kwargs):
    """Call the student's train; returns (result, exception raised or None). Warnings become failures.

    Any exception counts as "stopped" (that is how a failed gradient check ends training). An exception raised in the
    kernel while a judge runs this check arrives as a RemoteError carrying the original type's name in ``etype``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return train(*args, **kwargs), None
    except Exception as e:  # noqa: BLE001
        etype = getattr(e, "etype", type(e).__name__)
        if etype == "NotImplementedError":
            raise AssertionError("`train` is not implemented yet: replace `raise NotImplementedError()` with your "
                                 "code.") from None
        if etype in ("RuntimeWarning", "FloatingPointError"):
            raise AssertionError(f"`train` raised a numerical warning: {e}.") from None
        e.etype_name = etype
        return None, e


def check_train(train) -> None:
    def one(case: Case) -> None:
        steps = 12
        for _ in range(1000):
            act = ["sigmoid", "tanh"][case.integer(0, 1)]
            sizes = [case.integer(2, 4), case.integer(2, 5), case.integer(1, 3)]
            m = case.integer(3, 8)
            lr = float(case.rng.uniform(0.05, 0.3))
            net = _network(case, sizes, m, act, min_norm=2e-2)
            if net is None:
                continue
            Ws, bs, X, Y = net
            ref_W, ref_b, ref_c, smallest = _reference_training(_cost_fn(act), _backprop_fn(act), Ws, bs, X, Y, lr,
                                                                steps)
            # every gradient block stays large at every step, so a correct checker never raises a false alarm
            # (a single bias's gradient crossing zero would make its relative error meaningless)
            if smallest > 1e-2:
                break
        where = f"layer sizes {'-'.join(map(str, sizes))}, {act}, lr {lr:.3f}; {case}"
        saved = [W.copy() for W in Ws] + [b.copy() for b in bs]
        for check_every in (0, 4):
            out, err = _run_train(train, _cost_fn(act), _backprop_fn(act), Ws, bs, X.copy(), Y.copy(),
                                  lr=lr, steps=steps, check_every=check_every)
            if err is not None:
                raise AssertionError(f"train(..., check_every={check_every}) with a CORRECT backprop raised "
                                     f"{err.etype_name}: {err} ({where})")
            if not (isinstance(out, tuple) and len(out) == 3):
                raise AssertionError("train should return (Ws, bs, costs).")
            W_got, b_got, costs = out
            if len(costs) != steps:
                raise AssertionError(f"train should record one cost per step: {steps} steps, {len(costs)} costs.")
            for l in range(len(Ws)):
                compare(f"W^{l + 1} after {steps} steps", W_got[l], ref_W[l], case, tol=1e-9)
                compare(f"b^{l + 1} after {steps} steps", b_got[l], ref_b[l], case, tol=1e-9)
            compare("the recorded costs", np.ravel(np.asarray(costs, dtype=np.float64)), ref_c, case, tol=1e-9)
        if not all(np.array_equal(a, b) for a, b in zip(Ws + bs, saved)):
            raise AssertionError("train changed the arrays it was given: start from copies.")
        buggy = _backprop_fn(act, "no_fprime_output")
        _, err = _run_train(train, _cost_fn(act), buggy, Ws, bs, X.copy(), Y.copy(), lr=lr, steps=steps,
                            check_every=4)
        if err is None:
            raise AssertionError(f"with check_every=4 and a WRONG backprop (f'(z^L) missing), train should stop with "
                                 f"an error at the first check, but it trained on. ({where})")
        _, err = _run_train(train, _cost_fn(act), buggy, Ws, bs, X.copy(), Y.copy(), lr=lr, steps=steps,
                            check_every=0)
        if err is not None:
            raise AssertionError(f"with check_every=0 train must not check anything (it raised {err.etype_name}: "
                                 f"{err}). ({where})")
    repeat(one, times=3)


# ---------------------------------------------------------------- for the demo class and the pipeline tests

#: The classic slip in a hand-written checker: dividing by eps instead of 2 eps in the central difference.
DEMO_BUG = {
    "cell": "numgrad",
    "old": "g[idx] = (f_plus - f_minus) / (2 * eps)",
    "new": "g[idx] = (f_plus - f_minus) / eps",
    "loses": ["test_numerical_gradient", "test_eps_sweep", "test_gradient_check", "test_planted_bugs", "test_train"],
    "says": "factor of 2",
}

BROKEN_PART = {
    "cells": ["timing"],
    "loses": ["test_timing_table", "test_growth_exponent"],
}


remote_checks(globals())
