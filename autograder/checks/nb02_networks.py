"""Random networks for notebook 02's checks, and the numerical gradients and verdicts they are judged by."""
from __future__ import annotations

import numpy as np

from ..reference import mlp
from .diagnose import diagnose_layers, layer_errors
from .numgrad import complex_step_gradient
from ._core import TOLERANCE, Case, as_float_array, call

ACTS = ("sigmoid", "tanh", "relu")
#: At most this many entries of each weight matrix are differentiated numerically (the rest are left out).
SAMPLE = 24


# ---------------------------------------------------------------- random networks

def _sizes(case: Case, kind: str) -> list[int]:
    if kind == "square":
        return [16] * (case.integer(2, 3) + 1)
    if kind == "4532":
        return [4, 5, 3, 2]
    depth = case.integer(2, 5)
    while True:  # every W^m non-square: n_m != n_{m-1}
        sizes = [case.integer(2, 6) for _ in range(depth + 1)]
        if all(a != b for a, b in zip(sizes[:-1], sizes[1:])):
            return sizes


def _network(case: Case, sizes, m: int, activation: str):
    """(Ws, bs, X, Y). For ReLU, every |z| stays above 1e-3 so central differences never straddle the kink."""
    for _ in range(200):
        Ws = [case.normal(n_out, n_in, scale=1.4 / np.sqrt(n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        bs = [case.nonzero(n_out, 1, low=0.1, high=0.8) for n_out in sizes[1:]]
        X = case.normal(sizes[0], m)
        Y = case.rng.uniform(0.05, 0.95, size=(sizes[-1], m))
        zs, _ = mlp.forward(Ws, bs, X, activation)
        if activation != "relu":
            return Ws, bs, X, Y
        if min(float(np.min(np.abs(z))) for z in zs) > 1e-3 and all(np.any(z > 0) for z in zs):
            return Ws, bs, X, Y
    raise RuntimeError("could not draw a ReLU network away from its kinks")


def _plans(case: Case):
    """(kind, batch size, activation): every activation on non-square nets with m = 1 and m > 1, plus 4-5-3-2 and
    the square 16-16-16 case with one example and with several."""
    plans = []
    for act in ACTS:
        plans.append(("nonsquare", 1, act))
        plans.append(("nonsquare", case.integer(2, 7), act))
    acts = [str(a) for a in case.rng.permutation(ACTS)]
    plans.append(("4532", case.integer(2, 7), acts[0]))
    plans.append(("square", 1, acts[1]))
    plans.append(("square", case.integer(2, 7), acts[2]))
    return plans


def _copies(Ws, bs, X, Y):
    return [W.copy() for W in Ws], [b.copy() for b in bs], X.copy(), Y.copy()


def _describe(case, sizes, m, act):
    return f"layer sizes {'-'.join(map(str, sizes))}, batch of {m}, {act}; {case}"


_SHAPE_WORDS = ("matmul", "shapes", "not aligned", "broadcast", "mismatch", "dimension")


def _call_net(name, fn, *args, where: str = ""):
    """call() plus a hint when the student's code fails on a shape: with layers of different sizes that is most often
    a missing transpose."""
    try:
        return call(name, fn, *args)
    except AssertionError as e:
        msg = str(e)
        if "raised ValueError" in msg and any(w in msg for w in _SHAPE_WORDS):
            numpy_says = msg.split("raised ValueError:", 1)[1].strip()
            msg = (f"`{name}` stopped with a shape error. With layers of different sizes this usually means a missing "
                   "transpose: the error goes back through (W^{m+1})^T delta^{m+1}, and dJ/dW^m = delta^m (a^{m-1})^T. "
                   f"(numpy said: {numpy_says})" + (f" ({where})" if where else ""))
        raise AssertionError(msg) from None


def _layer_list(name: str, value, L: int, what: str) -> list[np.ndarray]:
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        value = list(value)
    if not isinstance(value, (list, tuple)):
        raise AssertionError(f"{name} should be a list of {L} arrays, one per layer ({what}), but is "
                             f"{type(value).__name__}.")
    if len(value) != L:
        raise AssertionError(f"{name} should hold {L} arrays, one per layer ({what}), but holds {len(value)}.")
    return [as_float_array(f"{name}[{i}]", v) for i, v in enumerate(value)]


# ---------------------------------------------------------------- numerical references

def _num_dW(Ws, bs, X, Y, act, l, rng):
    """dJ/dW^{l+1} by complex step of mlp.cost, on at most SAMPLE entries (NaN elsewhere).

    The complex step has no step-size trade-off (no cancellation, truncation O(1e-60)): its error is the rounding of
    the forward pass's tangent, a few ulps relative, also for the small gradients of deep sigmoid layers, where
    central differences at a fixed step lost up to 1.5e-6 to round-off (issue: false rejects). ReLU networks are
    drawn with every |z| > 1e-3 and a complex step never moves the real part, so the kink is never crossed."""
    W = Ws[l]
    idx = list(np.ndindex(W.shape))
    if len(idx) > SAMPLE:
        idx = [idx[i] for i in rng.choice(len(idx), size=SAMPLE, replace=False)]

    def J(Wl):
        return mlp.cost(Ws[:l] + [Wl] + Ws[l + 1:], bs, X, Y, act)
    return complex_step_gradient(J, W, indices=idx)


def _num_db(Ws, bs, X, Y, act, l):
    def J(bl):
        return mlp.cost(Ws, bs[:l] + [bl] + bs[l + 1:], X, Y, act)
    return complex_step_gradient(J, bs[l])


def _num_delta(Ws, bs, X, Y, act, l):
    """dJ/dz^{l+1}: the cost as a function of layer l+1's pre-activations, run forward from there."""
    f = mlp.ACTIVATIONS[act][0]
    m = X.shape[1]
    zs, _ = mlp.forward(Ws, bs, X, act)

    def J(Z):
        a = f(Z)
        for W, b in zip(Ws[l + 1:], bs[l + 1:]):
            a = f(W @ a + b)
        return np.sum((a - Y) ** 2) / m
    return complex_step_gradient(J, zs[l])


def _judge(label: str, got: list, want: list, diagnosis_of, m: int, where: str) -> None:
    """Compare per layer; on failure say which layers are wrong and why."""
    L = len(want)
    names = [label.format(l=l + 1) for l in range(L)]
    errs = layer_errors(got, want)
    bad = [i for i, e in enumerate(errs) if e > TOLERANCE]
    if not bad:
        return
    shape_bad = [i for i in bad if not np.isfinite(errs[i])]
    if shape_bad:
        i = shape_bad[0]
        g, w = got[i], want[i]
        hint = ""
        if label.startswith("dJ/db"):
            if g.shape == (1, m):
                hint = (" It has one entry per example: delta was summed over the units (axis 0) instead of over the "
                        "examples (axis=1, keepdims=True).")
            elif g.shape == (w.shape[0], m):
                hint = " It has one column per example: sum delta over the batch (axis=1, keepdims=True)."
            elif g.ndim == 1 and g.size == w.size:
                hint = " Keep it a column like b: np.sum(..., axis=1, keepdims=True)."
        elif g.ndim == 2 and g.shape == w.shape[::-1]:
            hint = " It is the transpose of the right shape: check the order of the factors, or a missing .T."
        elif label.startswith("dJ/dW") and g.ndim == 2 and g.shape == (w.shape[0], w.shape[0]):
            hint = (" It pairs delta^m with a^m, the output of layer m. The weight multiplies the activation coming "
                    "INTO its layer: dJ/dW^m = delta^m (a^{m-1})^T (the slip in notes 002).")
        elif label.startswith("dJ/dW"):
            hint = (" dJ/dW^m = delta^m (a^{m-1})^T: (n_m, m) times (m, n_{m-1}) gives the shape of W^m.")
        if not hint:
            hint = " " + (diagnosis_of() or "")
        raise AssertionError(f"{names[i]} has shape {g.shape}, expected {w.shape}.{hint} ({where})")
    diag = diagnosis_of() or diagnose_layers(names, got, want, batch_size=m)
    wrong = ", ".join(names[i] for i in bad)
    right = ", ".join(names[i] for i in range(L) if i not in bad)
    raise AssertionError(
        f"{wrong} {'is' if len(bad) == 1 else 'are'} wrong (relative error {errs[bad[0]]:.2e} for {names[bad[0]]}, "
        f"tolerance {TOLERANCE:.0e})" + (f"; {right} {'is' if L - len(bad) == 1 else 'are'} right" if right else "")
        + f". {diag} ({where})")


