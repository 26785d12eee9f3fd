"""Hidden-test checks for notebook 07, part C and D: the optimizers (momentum, RMSProp, Adam) and the schedule.

Each optimizer is run for several consecutive steps on random parameter lists, with random hyper-parameters and
gradients, its state carried from call to call, and every step is compared with ``autograder.reference.optim``. When
a step is wrong, the same steps are replayed with each typical slip planted (no bias correction, no square root, epsilon
under the root, the state re-made at every step, ...) and the slip that reproduces the student's numbers is named.
Imported into ``nb07`` and routed to the judge as ``nb07.check_*``.
"""
from __future__ import annotations

import numpy as np

from ..reference import optim
from ._core import Case, as_float_array, call, check_scalar, float_copies, repeat
from .numgrad import relative_error

#: A step is the same float64 operations as the reference's, in another order at most: rounding of ~1e-16 relative per
#: operation, a few dozen operations over the steps: 1.4e-13 at worst in 3,000 cases of a differently written Adam
#: (tests/test_nb07.py), so 1e-9 leaves almost four orders of magnitude.
STEP_TOL = 1e-9
#: Relative errors of a step are taken against at least this norm (displacements of 1e-12 are judged absolutely).
STEP_FLOOR = 1e-12


def _no_sqrt(p, g, s, eta, eps):
    return p - eta * g / (s + eps)


def _rms(bug=None):
    def step(params, grads, state, hyper):
        ss = [np.zeros(np.shape(p)) for p in params] if (state is None or bug == "reset") else state["s"]
        rho, eta, eps = hyper["rho"], hyper["eta"], hyper["eps"]
        ss = [(rho * s + g * g) if bug == "no_one_minus" else (rho * s + (1 - rho) * g * g) for s, g in zip(ss, grads)]
        if bug == "no_sqrt":
            new = [_no_sqrt(p, g, s, eta, eps) for p, g, s in zip(params, grads, ss)]
        elif bug == "eps_inside":
            new = [p - eta * g / np.sqrt(s + eps) for p, g, s in zip(params, grads, ss)]
        else:
            new = [p - eta * g / (np.sqrt(s) + eps) for p, g, s in zip(params, grads, ss)]
        return new, {"s": ss}
    return step


def _adam(bug=None):
    def step(params, grads, state, hyper):
        if state is None or bug == "reset":
            state = {"m": [np.zeros(np.shape(p)) for p in params], "v": [np.zeros(np.shape(p)) for p in params], "t": 0}
        b1, b2, eta, eps = hyper["beta1"], hyper["beta2"], hyper["eta"], hyper["eps"]
        t = 1 if bug == "t_fixed" else state["t"] + 1
        ms = [b1 * m + (1 - b1) * g for m, g in zip(state["m"], grads)]
        vs = [b2 * v + (1 - b2) * g * g for v, g in zip(state["v"], grads)]
        c1 = 1.0 if bug in ("no_correction", "no_m_correction") else 1 - b1 ** t
        c2 = 1.0 if bug in ("no_correction", "no_v_correction") else 1 - b2 ** t
        if bug == "no_sqrt":
            new = [p - eta * (m / c1) / (v / c2 + eps) for p, m, v in zip(params, ms, vs)]
        elif bug == "eps_inside":
            new = [p - eta * (m / c1) / np.sqrt(v / c2 + eps) for p, m, v in zip(params, ms, vs)]
        elif bug == "eps_uncorrected":  # Kingma & Ba's "efficient" form: eps added to sqrt(v), before the correction
            new = [p - eta * np.sqrt(c2) / c1 * m / (np.sqrt(v) + eps) for p, m, v in zip(params, ms, vs)]
        else:
            new = [p - eta * (m / c1) / (np.sqrt(v / c2) + eps) for p, m, v in zip(params, ms, vs)]
        return new, {"m": ms, "v": vs, "t": t}
    return step


def _momentum(bug=None):
    def step(params, grads, state, hyper):
        vs = [np.zeros(np.shape(p)) for p in params] if (state is None or bug == "reset") else state["v"]
        beta, eta = hyper["beta"], hyper["eta"]
        vs = [beta * v - eta * g for v, g in zip(vs, grads)]
        new = [p - v for p, v in zip(params, vs)] if bug == "sign" else [p + v for p, v in zip(params, vs)]
        return new, {"v": vs}
    return step


RESET = ("Diagnosis: state reset every step: each step behaves like the first one. Build the zeros only when state "
         "is None, and return the updated state so the next call continues from it.")

#: optimizer -> (variant maker, {bug: sentence}); the sentences are what the student reads.
SLIPS = {
    "momentum_step": (_momentum, {
        "reset": RESET + " (Momentum without its velocity is plain gradient descent.)",
        "sign": "Diagnosis: the velocity is subtracted: with v <- beta v - eta g the update is theta <- theta + v.",
    }),
    "rmsprop_step": (_rms, {
        "reset": RESET,
        "no_sqrt": "Diagnosis: missing square root: divide g by sqrt(s) + eps, the root of the running mean square.",
        "eps_inside": "Diagnosis: eps in the wrong place: it is added after the square root, g / (sqrt(s) + eps).",
        "no_one_minus": "Diagnosis: the new g^2 needs the weight (1 - rho): s <- rho s + (1 - rho) g^2.",
    }),
    "adam_step": (_adam, {
        "reset": RESET + " (m, v and the step counter t must all carry over.)",
        "no_correction": ("Diagnosis: missing bias correction. m and v start at 0, so early on they are too small; "
                          "divide by (1 - beta1^t) and (1 - beta2^t), with t = 1 on the first step."),
        "no_m_correction": "Diagnosis: missing bias correction of m: mhat = m / (1 - beta1^t).",
        "no_v_correction": "Diagnosis: missing bias correction of v: vhat = v / (1 - beta2^t).",
        "t_fixed": "Diagnosis: the step counter t does not advance: t = 1, 2, 3, ... must be kept in the state.",
        "no_sqrt": "Diagnosis: missing square root: divide mhat by sqrt(vhat) + eps.",
        "eps_inside": "Diagnosis: eps in the wrong place: it is added after the square root, sqrt(vhat) + eps.",
        "eps_uncorrected": ("Diagnosis: eps in the wrong place: add it to sqrt(vhat), the bias-corrected v, not to "
                            "sqrt(v) (the paper's rewritten form uses a rescaled eps; this notebook's formula does not)."),
    }),
}

REFERENCE = {"momentum_step": optim.momentum_step, "rmsprop_step": optim.rmsprop_step, "adam_step": optim.adam_step}


def _hyper(name: str, case: Case) -> dict:
    u = lambda lo, hi: float(case.rng.uniform(lo, hi))  # noqa: E731
    if name == "momentum_step":
        return {"eta": u(0.01, 0.5), "beta": u(0.5, 0.95)}
    if name == "rmsprop_step":
        return {"eta": u(0.01, 0.5), "rho": u(0.5, 0.95), "eps": u(1e-3, 1e-1)}
    return {"eta": u(0.01, 0.5), "beta1": u(0.5, 0.95), "beta2": u(0.8, 0.999), "eps": u(1e-3, 1e-1)}


def _problem(name: str, case: Case):
    """Random parameter arrays, k gradients for each (their scale near eps, where eps's place matters), hyper."""
    shapes = [(case.integer(1, 4), case.integer(1, 3)) for _ in range(case.integer(1, 3))]
    params = [case.normal(*s) for s in shapes]
    k = case.integer(3, 5)
    scale = float(10 ** case.rng.uniform(-2, 0))
    grads = [[case.normal(*s, scale=scale) for s in shapes] for _ in range(k)]
    return params, grads, _hyper(name, case)


def run_steps(step, params, grads_seq, hyper):
    """The parameter lists after each of the steps (state carried), as the reference computes them."""
    out, state, p = [], None, float_copies(params)
    for grads in grads_seq:
        p, state = step(p, float_copies(grads), state, dict(hyper))
        out.append([np.asarray(x, dtype=np.float64) for x in p])
    return out


def _student_steps(name: str, fn, params, grads_seq, hyper, case: Case):
    out, state, p = [], None, float_copies(params)
    for k, grads in enumerate(grads_seq):
        res = call(name, fn, float_copies(p), float_copies(grads), state, dict(hyper))
        if res is None:
            raise AssertionError(f"{name} returned None: it should return (new_params, new_state). Did you forget "
                                 f"the `return`? ({case})")
        if not (isinstance(res, (tuple, list)) and len(res) == 2):
            raise AssertionError(f"{name} should return a pair (new_params, new_state); got {type(res).__name__}. ({case})")
        new, state = res
        if not isinstance(new, (list, tuple)):
            raise AssertionError(f"{name} should return a pair (new_params, new_state) whose first entry is the list "
                                 f"of new arrays; did it return only the new parameters? ({case})")
        if len(new) != len(p):
            raise AssertionError(f"{name} should return new_params as a list with one array per parameter "
                                 f"({len(p)} here). ({case})")
        new = [as_float_array(f"new_params[{i}]", x) for i, x in enumerate(new)]
        for i, (x, old) in enumerate(zip(new, p)):
            if x.shape != np.shape(old):
                raise AssertionError(f"step {k + 1}: new_params[{i}] has shape {x.shape}, expected {np.shape(old)}. ({case})")
            if not np.all(np.isfinite(x)):
                raise AssertionError(f"step {k + 1}: new_params[{i}] contains NaN or inf. ({case})")
        if k == 0 and state is None and name != "sgd_step":
            raise AssertionError(f"{name} returned None as its state: return the state (a dict of running averages) "
                                 f"so the next step can continue from it. ({case})")
        out.append(new)
        p = new
    return out


def _steps_error(got, want):
    return max(relative_error(np.concatenate([x.ravel() for x in g]), np.concatenate([x.ravel() for x in w]),
                              floor=STEP_FLOOR) for g, w in zip(got, want))


def _check_optimizer(name: str, fn) -> None:
    ref = REFERENCE[name]
    maker, slips = SLIPS[name]

    def one(case: Case) -> None:
        params, grads_seq, hyper = _problem(name, case)
        got = _student_steps(name, fn, params, grads_seq, hyper, case)
        want = run_steps(ref, params, grads_seq, hyper)
        for k, (g, w) in enumerate(zip(got, want)):
            # judge the displacement from the start, so the size of theta itself does not hide a wrong step
            dg = [x - p0 for x, p0 in zip(g, params)]
            dw = [x - p0 for x, p0 in zip(w, params)]
            err = _steps_error([dg], [dw])
            if err > STEP_TOL:
                why = next((s for bug, s in slips.items()
                            if _steps_error(got, run_steps(maker(bug), params, grads_seq, hyper)) <= STEP_TOL),
                           "Diagnosis: no typical slip reproduces these numbers; compare each line with the formulas.")
                raise AssertionError(f"{name}: after step {k + 1} of {len(grads_seq)} the parameters differ from the "
                                     f"reference (relative error {err:.1e} of the distance moved, tolerance "
                                     f"{STEP_TOL:.0e}; hyper = {_fmt(hyper)}). {why} ({case})")
    repeat(one)


def _fmt(hyper: dict) -> str:
    return "{" + ", ".join(f"{k}: {v:.3g}" for k, v in hyper.items()) + "}"


def check_momentum(momentum_step) -> None:
    _check_optimizer("momentum_step", momentum_step)


def check_rmsprop(rmsprop_step) -> None:
    _check_optimizer("rmsprop_step", rmsprop_step)


def check_adam(adam_step) -> None:
    _check_optimizer("adam_step", adam_step)


# ---------------------------------------------------------------- Part D: the schedule


def check_schedule(cosine_schedule) -> None:
    def one(case: Case) -> None:
        K = case.integer(5, 200)
        eta0 = float(10 ** case.rng.uniform(-3, 0))
        eta_min = float(case.rng.uniform(0, 0.5)) * eta0
        ks = sorted({0, 1, K // 2, K - 1, K, K + case.integer(1, 50), case.integer(0, K)})
        for k in ks:
            got = check_scalar(f"cosine_schedule({k}, ...)", call("cosine_schedule", cosine_schedule, k, eta0, eta_min, K))
            want = optim.cosine_schedule(k, eta0, eta_min, K)
            if abs(got - want) > 1e-12 * eta0:
                hint = ""
                if k > K:
                    hint = " After step K the rate stays at eta_min."
                elif k == 0:
                    hint = " At k = 0 the rate is eta0: cos(0) = 1."
                elif k == K:
                    hint = " At k = K the rate is eta_min: cos(pi) = -1."
                raise AssertionError(f"cosine_schedule(k={k}, eta0={eta0:.4g}, eta_min={eta_min:.4g}, K={K}) should "
                                     f"be {want:.6g}, got {got:.6g}.{hint} ({case})")
    repeat(one)
