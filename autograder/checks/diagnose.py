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


# ---------------------------------------------------------------- whole networks: which layer, and which bug (02, 03)
#
# A backprop bug leaves a trail across the layers. The recursion runs from the output towards the input, so a slip in
# the step that produces delta^m spoils layer m and every layer below it, while the layers above stay right. The
# functions below read that trail: ``layer_errors``/``diagnose_layers`` from the errors alone, ``diagnose_backprop`` by
# re-running the reference backprop with each typical bug planted and seeing which one reproduces the student's numbers.

#: bug name -> the sentence the student reads when their gradients match that bug exactly.
BACKPROP_BUGS = {
    "no_transpose": ("Diagnosis: missing transpose. The error travels back through (W^{m+1})^T delta^{m+1}. With "
                     "W^{m+1} instead, square layers still give the right shapes but wrong values (layers of different "
                     "sizes would raise a shape error)."),
    "no_fprime_hidden": ("Diagnosis: f'(z^m) (sigma' for the sigmoid) missing in the hidden recursion delta^m = f'(z^m) "
                         "* (W^{m+1})^T delta^{m+1}: the last layer is right and the error grows towards the input."),
    "no_fprime_output": ("Diagnosis: f'(z^L) missing from delta^L = f'(z^L) * dJ/da^L, so every layer is off, starting "
                         "with the output layer."),
    "fprime_of_a": ("Diagnosis: f' is evaluated at the activation a^m instead of at z^m. (For the sigmoid, "
                    "sigma'(z) = a(1 - a) is written with a, but sigma'(a) is a different number.)"),
    "fprime_of_a_hidden": ("Diagnosis: in the hidden recursion f' is evaluated at the activation a^m instead of at "
                           "z^m: delta^m = f'(z^m) * (W^{m+1})^T delta^{m+1}. (For the sigmoid, sigma'(z) = a(1 - a) is "
                           "written with a, but sigma'(a) is a different number.)"),
    "no_average": ("Diagnosis: missing 1/m averaging: every gradient is m times too large (the ratio equals the batch "
                   "size). J is the mean over the batch, so dJ/da^L = (2/m)(a^L - y)."),
    "double_average": "Diagnosis: averaged twice: every gradient is m times too small (ratio 1/batch size).",
    "sign": ("Diagnosis: sign error. For J = (1/m) sum (a^L - y)^2 the output gradient is (2/m)(a^L - y), "
             "not (2/m)(y - a^L)."),
    "own_activation": ("Diagnosis: dJ/dW^m uses a^m where it needs a^{m-1}, the input of layer m: "
                       "dJ/dW^m = delta^m (a^{m-1})^T. (The slip in notes 002, dz/dw = a^(L).)"),
    "bias_axis": ("Diagnosis: bias gradient summed on the wrong axis: dJ/db^m sums delta^m over the examples "
                  "(axis=1, the columns, keepdims=True), not over the units."),
    "overwrite": ("Diagnosis: only the last example of the batch counts: `=` where `+=` should add each example's "
                  "contribution to the gradient (or sum over the batch's columns)."),
    "bias_not_summed": ("Diagnosis: the bias gradient is not summed over the batch: dJ/db^m = delta^m summed over the "
                        "examples, shape (n_m, 1). With one example the two agree, which is why it passed then."),
}


def backprop_variant(Ws, bs, X, Y, activation="sigmoid", bug=None, layer=None):
    """The reference backprop of ``autograder.reference.mlp`` with one typical bug planted.

    ``bug`` is a key of BACKPROP_BUGS (or None for the correct gradients); ``layer`` (1-based, the m of W^m) limits a
    layer-local bug to one layer (None: every layer). Returns ``(deltas, dWs, dbs)``. Raises ValueError when the bug
    cannot run on these shapes (a missing transpose on layers of different sizes).
    """
    from ..reference.mlp import ACTIVATIONS, forward

    fp = ACTIVATIONS[activation][1]
    m = X.shape[1]
    if bug == "overwrite":  # a per-example loop that assigns instead of accumulating: the last example, scaled 1/m
        if m < 2:
            raise ValueError("needs a batch")
        d, w, b = backprop_variant(Ws, bs, X[:, -1:], Y[:, -1:], activation)
        return [x / m for x in d], [x / m for x in w], [x / m for x in b]
    zs, acts = forward(Ws, bs, X, activation)
    L = len(Ws)

    def hit(i, name):  # i is 0-based: Ws[i] is W^{i+1}
        return bug == name and (layer is None or layer == i + 1)

    def fprime(i):
        at_a = hit(i, "fprime_of_a") or (hit(i, "fprime_of_a_hidden") and i < L - 1)
        return fp(acts[i + 1]) if at_a else fp(zs[i])

    coef = {"no_average": 2.0, "double_average": 2.0 / m / m, "sign": -2.0 / m}.get(bug, 2.0 / m)
    dJ_da = coef * (acts[-1] - Y)
    delta = dJ_da if hit(L - 1, "no_fprime_output") else fprime(L - 1) * dJ_da
    deltas = [None] * L
    deltas[L - 1] = delta
    for i in range(L - 2, -1, -1):
        W_back = Ws[i + 1] if hit(i, "no_transpose") else Ws[i + 1].T
        if W_back.shape[1] != delta.shape[0]:
            raise ValueError("shapes do not allow this bug")
        back = W_back @ delta
        delta = back if hit(i, "no_fprime_hidden") else fprime(i) * back
        deltas[i] = delta
    dWs, dbs = [], []
    for i in range(L):
        a_in = acts[i + 1] if hit(i, "own_activation") else acts[i]
        if a_in.shape[0] != Ws[i].shape[1] and hit(i, "own_activation"):
            raise ValueError("shapes do not allow this bug")
        dWs.append(deltas[i] @ a_in.T)
        if hit(i, "bias_axis"):
            dbs.append(deltas[i].sum(axis=0, keepdims=True))
        elif hit(i, "bias_not_summed"):
            dbs.append(deltas[i].copy())
        else:
            dbs.append(deltas[i].sum(axis=1, keepdims=True))
    return deltas, dWs, dbs


def layer_errors(got, want, floor: float = 1e-4) -> list[float]:
    """Relative error per layer (``inf`` where the shapes differ); NaN entries of ``want`` are not compared."""
    from .numgrad import relative_error

    errs = []
    for g, w in zip(got, want):
        g = np.asarray(g, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        if g.shape != w.shape:
            errs.append(float("inf"))
            continue
        mask = ~np.isnan(w)
        errs.append(relative_error(g[mask], w[mask], floor=floor))
    return errs


def diagnose_layers(names, got, want, batch_size: int | None = None, tol: float = 1e-6) -> str:
    """Which layers are wrong, and what that pattern says. ``names``, ``got``, ``want`` run from the input layer to the
    output layer (``names[i]`` like "dJ/dW^{i+1}"). Returns "" when every layer is right."""
    errs = layer_errors(got, want)
    L = len(errs)
    bad = [i for i, e in enumerate(errs) if e > tol]
    if not bad:
        return ""
    good = [i for i in range(L) if i not in bad]
    listed = lambda idx: ", ".join(names[i] for i in idx)  # noqa: E731
    shapes_ok = all(np.isfinite(errs[i]) for i in bad)
    if len(bad) == L and shapes_ok:
        g = np.concatenate([np.asarray(got[i], dtype=np.float64)[~np.isnan(want[i])].ravel() for i in bad])
        w = np.concatenate([np.asarray(want[i], dtype=np.float64)[~np.isnan(want[i])].ravel() for i in bad])
        if constant_ratio(g, w) is not None:
            return diagnose(g, w, batch_size=batch_size)
    if bad == list(range(len(bad))) and len(bad) < L:
        top = bad[-1]
        grows = all(errs[i] >= errs[i + 1] for i in range(top)) and len(bad) > 1
        return (f"Diagnosis: {listed(good)} right but {listed(bad)} wrong, so the gradient goes wrong on the way back, "
                f"in the step from layer {top + 2} to layer {top + 1}"
                + (", and the error grows towards the input" if grows else "")
                + ". Check that step of the recursion delta^m = f'(z^m) * (W^{m+1})^T delta^{m+1}: the f'(z^m) "
                  "factor (there, and taken at z^m) and the transpose.")
    if len(bad) == 1 and bad[0] != 0:
        i = bad[0]
        return (f"Diagnosis: only {names[i]} is wrong; the layers below it are right, so delta^{i + 1} itself is fine. "
                f"Check the line that turns delta^{i + 1} into this gradient.")
    if L - 1 in bad and len(bad) == L:
        last = ""
        if np.isfinite(errs[-1]):
            mask = ~np.isnan(np.asarray(want[-1], dtype=np.float64))
            last = diagnose(np.asarray(got[-1], dtype=np.float64)[mask], np.asarray(want[-1], dtype=np.float64)[mask],
                            batch_size=batch_size)
            last = "" if "no simple pattern" in last else f" In {names[-1]}: " + last[len("Diagnosis: "):]
        return ("Diagnosis: every layer is wrong, the output layer included, so the mistake is already in "
                "delta^L = f'(z^L) * dJ/da^L, or in a step every layer shares." + last)
    return f"Diagnosis: {listed(bad)} wrong, {listed(good) or 'no layer'} right. Check those layers one at a time."


def diagnose_backprop(Ws, bs, X, Y, activation="sigmoid", got_dWs=None, got_dbs=None, got_deltas=None,
                      tol: float = 1e-6) -> str | None:
    """The typical bug (BACKPROP_BUGS) whose gradients reproduce the student's, or None if none does.

    Pass whichever of ``got_dWs``, ``got_dbs``, ``got_deltas`` (lists, input layer first) the student produced.
    """
    provided = [(k, v) for k, v in (("W", got_dWs), ("b", got_dbs), ("delta", got_deltas)) if v is not None]
    right = dict(zip(("delta", "W", "b"), backprop_variant(Ws, bs, X, Y, activation)))

    def same(got, ref):
        return len(got) == len(ref) and max(layer_errors(got, ref), default=0.0) <= tol

    for bug, sentence in BACKPROP_BUGS.items():
        try:
            planted = dict(zip(("delta", "W", "b"), backprop_variant(Ws, bs, X, Y, activation, bug=bug)))
        except ValueError:
            continue
        # A bug that changes nothing on this case (no averaging with one example) cannot explain a mismatch.
        if all(same(planted[k], right[k]) for k, _ in provided):
            continue
        if all(same(got, planted[k]) for k, got in provided):
            return sentence
    return None
