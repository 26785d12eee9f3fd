"""Notebook 04's checks for the activations (Part C) and the spot-the-slip backprop for any activation (Part D).

Part C: ``act_and_slope`` against the reference activation and the complex-step slope of ``numgrad``; the variance a
layer passes on, ``next_z_variance``, against the derivation's formula (each known slip named: ReLU's 1/2, the
sigmoid's mean 1/2, its slope 1/4 not squared); ``z_stds`` against the reference forward pass. Part D: the student's
``backprop_act`` on random non-square networks for sigmoid, tanh and ReLU, every gradient compared with the complex-step
gradient of the reference cost (no |z| closer to the ReLU kink than 1e-3, so the derivative exists and the complex step
is exact there); the given slip, f' taken at a^l instead of z^l in the hidden recursion, is named by
``diagnose_backprop`` (it changes nothing for ReLU, so every case runs all three activations).
"""
from __future__ import annotations

import numpy as np

from ..reference import mlp, variance
from .diagnose import diagnose_backprop, diagnose_layers
from .numgrad import complex_step_derivative, complex_step_gradient, relative_error
from ._core import Case, as_float_array, call, check_scalar, compare, float_copies, layer_pair, repeat

ACTS = variance.ACTS
#: act_and_slope's slope must match the complex-step slope to this relative error ...
SLOPE_TOL = 1e-8
#: ... or to this absolute error per entry. A right slope is computed from numbers in [0, 1] (1 - tanh(z)^2,
#: sigma (1 - sigma), 0 or 1), so each entry is off by a few units in the last place of 1 however small the slope is;
#: far in the tails (|z| > 10) the slope is below 1e-8 and that rounding alone is a relative error above 1e-8 (a
#: false reject found by repetition: z = [-15.2, 11.2], 5e-8). 8 eps = 1.8e-15; every known slip is off by far more.
SLOPE_ABS = 8 * np.finfo(np.float64).eps


# ---------------------------------------------------------------- Part C.1


def _z_grid(case: Case, name: str) -> np.ndarray:
    z = case.normal(case.integer(1, 5), case.integer(2, 7), scale=float(case.rng.uniform(0.5, 6.0)))
    z = np.clip(z, -20.0, 20.0)
    # keep every entry at least 1e-3 from 0, where ReLU has no derivative
    return np.where(np.abs(z) < 1e-3, np.copysign(1e-3, z) + z, z)


def check_act_and_slope(act_and_slope) -> None:
    def one(case: Case) -> None:
        for name in ACTS:
            z = _z_grid(case, name)
            out = call("act_and_slope", act_and_slope, z.copy(), name)
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise AssertionError(f"act_and_slope(z, {name!r}) should return two arrays, (f(z), f'(z)).")
            f_ref = mlp.ACTIVATIONS[name][0]
            val = as_float_array(f"act_and_slope(z, {name!r})[0]", out[0])
            slope = as_float_array(f"act_and_slope(z, {name!r})[1]", out[1])
            for what, got in ((f"{name}(z)", val), (f"{name}'(z)", slope)):
                if got.shape != z.shape:
                    raise AssertionError(f"{what} should have the shape of z, {z.shape}, got {got.shape}: apply the "
                                         f"function elementwise. ({case})")
            want = f_ref(z)
            if relative_error(val, want) > 1e-10:
                raise AssertionError(f"act_and_slope(z, {name!r})[0] is not {name}(z): relative error "
                                     f"{relative_error(val, want):.2e}. ({case})")
            num = complex_step_derivative(f_ref, z)
            floor = SLOPE_ABS * np.sqrt(z.size) / SLOPE_TOL   # a norm below it is judged to SLOPE_ABS per entry
            if relative_error(slope, num, floor=floor) > SLOPE_TOL:
                hints = {"tanh": [(1.0 - z ** 2, "tanh'(z) = 1 - tanh(z)^2, not 1 - z^2.")],
                         "sigmoid": [(z * (1.0 - z), "sigma'(z) = sigma(z) (1 - sigma(z)): apply it to sigma(z), "
                                                     "not to z."),
                                     (want * (1.0 - want) * 0.25, "there is no extra 1/4: sigma'(z) = "
                                                                  "sigma(z) (1 - sigma(z)).")],
                         "relu": [(np.maximum(z, 0.0), "ReLU's slope is 1 where z > 0 and 0 elsewhere, not "
                                                       "max(z, 0) itself."),
                                  ((z < 0).astype(float), "ReLU's slope is 1 where z > 0, 0 where z < 0: "
                                                         "the two are swapped.")]}[name]
                hints.append((np.ones_like(z), f"the slope is not 1 everywhere: {name} bends."))
                hint = next((h for v, h in hints if relative_error(slope, v) <= 1e-9), "")
                raise AssertionError(f"act_and_slope(z, {name!r})[1] differs from the numerical slope of {name}: "
                                     f"relative error {relative_error(slope, num, floor=floor):.2e}. {hint} "
                                     f"({case})")
    repeat(one)


# ---------------------------------------------------------------- Part C.2


def check_next_z_variance(next_z_variance) -> None:
    def one(case: Case) -> None:
        for name in ACTS:
            var_z = float(10.0 ** case.rng.uniform(-2, 0.7))
            n_in = case.integer(2, 500)
            var_w = float(10.0 ** case.rng.uniform(-3, 0))
            got = check_scalar(f"next_z_variance(var_z, n_in, var_w, {name!r})",
                               call("next_z_variance", next_z_variance, var_z, n_in, var_w, name))
            want = variance.next_z_variance(var_z, n_in, var_w, name)
            if abs(got - want) <= 1e-10 * abs(want):
                continue
            base = n_in * var_w
            hints = [(base * var_z, {"relu": "ReLU sets the negative half of its inputs to 0, so E[a^2] = Var(z) / 2.",
                                     "sigmoid": "the sigmoid's output has mean 1/2 and slope 1/4 at 0: "
                                                "E[a^2] = 1/4 + Var(z) / 16 to first order."}.get(name, "")),
                     (base * var_z / 16.0, "the sigmoid's output has mean 1/2, and E[a^2] includes the square of that "
                                           "mean: 1/4 + Var(z) / 16."),
                     (base * (0.25 + var_z / 4.0), "the slope 1/4 enters squared: sigma(z) ~ 1/2 + z/4 gives "
                                                   "E[a^2] = 1/4 + Var(z) / 16."),
                     (base * (0.5 + var_z / 16.0), "the mean 1/2 enters squared: 1/4, not 1/2."),
                     (base * var_z / 4.0, "ReLU zeroes half its inputs: E[a^2] = Var(z) / 2, not / 4."),
                     (var_w * variance.second_moment(var_z, name), "the sum has n_in terms: multiply by n_in."),
                     (n_in * np.sqrt(var_w) * variance.second_moment(var_z, name),
                      "var_w is a variance already: do not take its square root."),
                     (n_in * var_w * np.sqrt(variance.second_moment(var_z, name)),
                      "E[a^2] is a second moment: for ReLU Var(z) / 2, not its square root.")]
            hint = next((h for v, h in hints if h and abs(got - v) <= 1e-9 * abs(v)), "")
            raise AssertionError(f"next_z_variance({var_z:.4g}, {n_in}, {var_w:.4g}, {name!r}) should be "
                                 f"n_in * var_w * E[a^2] = {want:.6g}, got {got:.6g}. {hint} ({case})")
    repeat(one)


# ---------------------------------------------------------------- Part C.3


def _net(case: Case, name: str):
    while True:
        sizes = [case.integer(2, 7) for _ in range(case.integer(3, 5))]
        if all(a != b for a, b in zip(sizes[:-1], sizes[1:])):
            break
    m = case.integer(1, 6)
    while True:
        Ws = [case.normal(b, a, scale=float(case.rng.uniform(0.4, 1.2))) for a, b in zip(sizes[:-1], sizes[1:])]
        bs = [case.nonzero(b, 1, low=0.1, high=0.8) for b in sizes[1:]]
        X = case.normal(sizes[0], m)
        zs, _ = mlp.forward(Ws, bs, X, name)
        if min(float(np.min(np.abs(z))) for z in zs) >= 1e-3:  # away from ReLU's kink (drawn again otherwise)
            break
    Y = case.rng.uniform(0.0, 1.0, size=(sizes[-1], m))
    return sizes, Ws, bs, X, Y


def check_z_stds(z_stds) -> None:
    def one(case: Case) -> None:
        for name in ACTS:
            sizes, Ws, bs, X, _ = _net(case, name)
            got = np.ravel(as_float_array(f"z_stds(Ws, bs, X, {name!r})",
                                          call("z_stds", z_stds, float_copies(Ws), float_copies(bs), X.copy(), name)))
            want = variance.z_stds(Ws, bs, X, name)
            if got.shape == want.shape and relative_error(got, want) <= 1e-10:
                continue
            zs, acts = mlp.forward(Ws, bs, X, name)
            hints = [(np.array([np.std(a) for a in acts[1:]]), "these are the spreads of the activations a^l: "
                                                               "measure z^l = W^l a^(l-1) + b^l."),
                     (np.array([np.std(a) for a in acts[:-1]]), "these are the spreads of a^0 ... a^(L-1): "
                                                                "measure z^1 ... z^L."),
                     (np.array([np.std(z, ddof=1) for z in zs]) if zs[0].size > 1 else None,
                      "use np.std (divide by the number of entries), not ddof=1."),
                     (np.array([np.mean(np.std(z, axis=1)) for z in zs]), "take the std of all entries of z^l "
                                                                          "together, not one per unit then averaged."),
                     (np.array([np.var(z) for z in zs]), "these are variances: return standard deviations.")]
            hint = next((h for v, h in hints if v is not None and v.shape == got.shape
                         and relative_error(got, v) <= 1e-9), "")
            if not hint and got.shape != want.shape:
                hint = f"one number per layer, {len(Ws)} for sizes {sizes}."
            shown = lambda a: "[" + ", ".join(f"{v:.5g}" for v in a[:5]) + ("...]" if a.size > 5 else "]")  # noqa: E731
            raise AssertionError(f"z_stds for sizes {sizes}, {name}: expected {shown(want)}, got {shown(got)}. {hint} "
                                 f"({case})")
    repeat(one, times=3)


# ---------------------------------------------------------------- Part D.1


def _check_backprop_act(backprop_act, which: int) -> None:
    label = "dJ/dW" if which == 0 else "dJ/db"

    def one(case: Case) -> None:
        for name in ACTS:
            sizes, Ws, bs, X, Y = _net(case, name)
            m = X.shape[1]
            out = layer_pair(f"backprop_act(..., {name!r})",
                             call("backprop_act", backprop_act, float_copies(Ws), float_copies(bs), X.copy(), Y.copy(),
                                  name),
                             len(Ws), what="(dWs, dbs), two lists with one array per layer")
            params = Ws if which == 0 else bs
            want = []
            for l, P in enumerate(params):
                def J(p, l=l):
                    Ws2, bs2 = list(Ws), list(bs)
                    (Ws2 if which == 0 else bs2)[l] = p
                    return mlp.cost(Ws2, bs2, X, Y, activation=name)
                want.append(complex_step_gradient(J, P))
            got = [as_float_array(f"{label}^{l + 1}", g) for l, g in enumerate(out[which])]
            names = [f"{label}^{l + 1}" for l in range(len(Ws))]
            bad = [l for l in range(len(Ws)) if got[l].shape != want[l].shape
                   or not np.all(np.isfinite(got[l])) or relative_error(got[l], want[l], floor=1e-4) > 1e-6]
            if not bad:
                continue
            named = None
            if all(g.shape == w.shape for g, w in zip(got, want)):
                named = diagnose_backprop(Ws, bs, X, Y, name, **({"got_dWs": got} if which == 0 else {"got_dbs": got}))
            if named is None:
                named = diagnose_layers(names, got, want, batch_size=m) if all(
                    g.shape == w.shape for g, w in zip(got, want)) else ""
            if not named:
                try:
                    compare(names[bad[0]], got[bad[0]], want[bad[0]], case, batch_size=m)
                except AssertionError as e:
                    raise AssertionError(f"{name} network {sizes}: {e}") from None
            raise AssertionError(f"backprop_act on a {name} network {sizes}, batch of {m}: {', '.join(names[l] for l in bad)} "
                                 f"differ from the numerical gradient. {named} ({case})")
    repeat(one, times=3)


def _act_ok(act_and_slope) -> bool:
    """Whether the student's act_and_slope (Part C.1), which their backprop_act calls, is right on fresh cases."""
    try:
        check_act_and_slope(act_and_slope)
    except AssertionError:
        return False
    return True


def _blaming_act(which: int, backprop_act, act_and_slope) -> None:
    try:
        _check_backprop_act(backprop_act, which)
    except AssertionError as e:
        if act_and_slope is not None and not _act_ok(act_and_slope):
            raise AssertionError("Your act_and_slope of Part C.1 is not right yet (its own test says what is wrong), "
                                 "and backprop_act calls it: fix it first. " + str(e)) from None
        raise


def check_backprop_act_weights(backprop_act, act_and_slope=None) -> None:
    _blaming_act(0, backprop_act, act_and_slope)


def check_backprop_act_biases(backprop_act, act_and_slope=None) -> None:
    _blaming_act(1, backprop_act, act_and_slope)
