"""Notebook 05's checks for the weight-decay step (Part C, spot the slip), the lambda sweep on a validation set and
the choice of lambda (Part D), and early stopping (Part E); routed under nb05's name.

The decay step is judged by the gradient it implies, (P - P_new) / eta, against the complex-step gradient of the
reference regularized cost (``numgrad``), with the given function's two slips (biases decayed, 1/m missing from the
shrink factor) named. Sweeps and early stopping are compared with the reference run (``reference.regularization``) on
small random problems; early-stopping cases whose decisions hinge on costs closer than 1e-9 are drawn again, so that a
right answer differing from the reference by round-off cannot stop at another epoch, and so are cases whose run
amplifies a 1e-15 nudge of the inputs beyond 1e-11. Each part is graded on its own: the sweep is given the reference
fit and early stopping the reference gradient (``Given``, a judge-side function the student's code calls), in place of
the student's own Parts B.2 and A.2, and must use them.
"""
from __future__ import annotations

import numpy as np

from ..reference import mlp, regularization as reg
from .numgrad import complex_step_gradient, relative_error
from ._core import (Case, Given, as_float_array, call, check_scalar, compare, float_copies, layer_pair, rediagnosed,
                    repeat, unused)


def _problem(case: Case, n_val: bool = True):
    sizes = [case.integer(2, 4)] + [case.integer(2, 5) for _ in range(case.integer(1, 2))] + [case.integer(1, 2)]
    Ws = [case.normal(b, a, scale=0.9) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [case.nonzero(b, 1, low=0.3, high=1.0) for b in sizes[1:]]
    m = case.integer(3, 8)
    X = case.normal(sizes[0], m)
    Y = case.rng.uniform(0.0, 1.0, size=(sizes[-1], m))
    Xv = case.normal(sizes[0], case.integer(3, 8))
    Yv = case.rng.uniform(0.0, 1.0, size=(sizes[-1], Xv.shape[1]))
    return sizes, Ws, bs, X, Y, Xv, Yv


def reference_grad(Ws, bs, X, Y, lam=0.0):
    """The reference gradient of the regularized cost, in the notebook's order of arguments (lam fifth)."""
    return mlp.backprop(Ws, bs, X, Y, lam=lam)


# ---------------------------------------------------------------- Part C: the weight-decay step


def _check_decay(decay_step, which: int) -> None:
    label = "W" if which == 0 else "b"

    def one(case: Case) -> None:
        _, Ws, bs, X, Y, _, _ = _problem(case)
        m = X.shape[1]
        lam = float(case.rng.uniform(0.5, 3.0))
        eta = float(case.rng.uniform(0.2, 1.0))
        out = layer_pair("decay_step(...)", call("decay_step", decay_step, float_copies(Ws), float_copies(bs), X.copy(),
                                                 Y.copy(), lam, eta), len(Ws), what="(Ws, bs), the parameters after the step")
        params = Ws if which == 0 else bs
        data = mlp.backprop(Ws, bs, X, Y)[which]
        for l, P in enumerate(params):
            def J(p, l=l):
                Ws2, bs2 = list(Ws), list(bs)
                (Ws2 if which == 0 else bs2)[l] = p
                return mlp.cost(Ws2, bs2, X, Y, lam=lam)
            want = complex_step_gradient(J, P)
            new = as_float_array(f"the new {label}^{l + 1}", out[which][l])
            if new.shape != P.shape:
                raise AssertionError(f"the new {label}^{l + 1} should keep the shape {P.shape}, got {new.shape}. ({case})")
            implied = (P - new) / eta
            try:
                compare(f"the step of {label}^{l + 1}, (old - new) / eta,", implied, want, case, batch_size=m)
            except AssertionError as e:
                extra = implied - data[l]
                hints = ([(lam / m * P, "the biases are decayed too: only the weights are in the penalty, so "
                                        "b <- b - eta dJ0/db, with no shrink factor."),
                          (lam * P, "the biases are decayed too (by a factor that also lacks the 1/m): only the "
                                    "weights are in the penalty, so b <- b - eta dJ0/db, with no shrink factor.")]
                         if which == 1 else
                         [(lam * P, "the shrink factor is missing its 1/m: W <- (1 - eta lam / m) W - eta dJ0/dW."),
                          (0.0 * P, "the weights are not shrunk: W <- (1 - eta lam / m) W - eta dJ0/dW."),
                          (2 * lam / m * P, "the shrink is twice too strong: 1 - eta lam / m, the 2 of the square "
                                            "cancels the 1/2 of lam / (2m).")])
                if which == 0 and np.allclose(new, (1 - eta * lam / m) * (P - eta * data[l]), rtol=1e-9, atol=1e-12):
                    hints = [(None, "the shrink is applied after the step, to W - eta dJ0/dW: shrink the old W and "
                                    "subtract eta dJ0/dW, both computed at the old parameters.")]
                hint = next((h for v, h in hints if v is None or np.allclose(extra, v, rtol=1e-7, atol=1e-10)), "")
                if which == 1 and not hint:
                    hint = "the biases' step is the data gradient alone: b <- b - eta dJ0/db."
                raise AssertionError(rediagnosed(str(e), hint and " " + hint, case)) from None
    repeat(one)


def check_decay_step_weights(decay_step) -> None:
    _check_decay(decay_step, 0)


def check_decay_step_biases(decay_step) -> None:
    _check_decay(decay_step, 1)


# ---------------------------------------------------------------- Part D: the lambda sweep and the choice of lambda


def _shown(a):
    return "[" + ", ".join(f"{v:.6g}" for v in np.ravel(a)[:5]) + (", ...]" if np.size(a) > 5 else "]")


def check_lambda_sweep(lambda_sweep) -> None:
    """Given the reference fit as ``fit_fn``, so that a wrong fit of Part B costs nothing here."""
    def one(case: Case) -> None:
        sizes, _, _, X, Y, Xv, Yv = _problem(case)
        lams = [0.0] + sorted(float(v) for v in 10.0 ** case.rng.uniform(-2, 0.5, size=case.integer(2, 3)))
        eta, epochs, seed = float(case.rng.uniform(0.2, 1.0)), case.integer(3, 8), int(case.rng.integers(0, 2**31))
        fit_fn = Given(reg.fit)
        out = call("lambda_sweep", lambda_sweep, X.copy(), Y.copy(), Xv.copy(), Yv.copy(), list(sizes), list(lams), eta,
                   epochs, seed, fit_fn)
        unused(fit_fn, "lambda_sweep", "fit_fn", "fit")
        if not (isinstance(out, dict) and {"train", "val", "gap"} <= set(out)):
            raise AssertionError("lambda_sweep should return a dict with the arrays 'train', 'val' and 'gap'.")
        want = reg.lambda_sweep(X, Y, Xv, Yv, sizes, lams, eta, epochs, seed)
        for key in ("train", "val", "gap"):
            got = np.ravel(as_float_array(f"sweep['{key}']", out[key]))
            if got.shape == want[key].shape and relative_error(got, want[key]) <= 1e-8:
                continue
            hint = ""
            if got.shape != want[key].shape:
                hint = f"one number per lambda: {len(lams)} for lams = {_shown(lams)}."
            elif key == "gap" and relative_error(got, -want["gap"]) <= 1e-8:
                hint = "the gap is validation minus training cost (positive when the network overfits)."
            else:
                pen = np.array([mlp.cost(*reg.fit(X, Y, sizes, lam, eta, epochs, seed, Xv, Yv)[:2],
                                         *((X, Y) if key == "train" else (Xv, Yv)), lam=lam) for lam in lams])
                if key != "gap" and relative_error(got, pen) <= 1e-8:
                    hint = "these include the penalty: report J0 (lam = 0), so that different lambdas compare."
                elif key != "gap" and relative_error(got, want["val" if key == "train" else "train"]) <= 1e-8:
                    hint = "training and validation costs are swapped."
                else:
                    hint = (f"each entry is the final {'training' if key == 'train' else 'validation'} J0 of "
                            "fit_fn(X, Y, sizes, lam, eta, epochs, seed, X_val, Y_val), the same seed for every lambda.")
            raise AssertionError(f"lambda_sweep with lams = {_shown(lams)}: sweep['{key}'] should be {_shown(want[key])}, "
                                 f"got {_shown(got)}: {hint} ({case})")
    repeat(one, times=3)


def check_best_lambda(best_lambda) -> None:
    def one(case: Case) -> None:
        n = case.integer(3, 8)
        lams = np.sort(10.0 ** case.rng.uniform(-4, 1, size=n))
        lams[0] = 0.0
        vals = case.rng.uniform(0.05, 0.3, size=n)
        if case.rng.uniform() < 0.5:  # a tie for the lowest cost: the larger lambda wins
            i, j = sorted(case.rng.choice(n, size=2, replace=False))
            vals[i] = vals[j] = vals.min() - 0.01
        order = case.rng.permutation(n)
        lams, vals = lams[order], vals[order]
        got = check_scalar("best_lambda(lams, val_costs)", call("best_lambda", best_lambda, lams.tolist(), vals.copy()))
        want = reg.best_lambda(lams, vals)
        if got == want:
            return
        low = vals == vals.min()
        if got in lams[low].tolist():
            hint = "two lambdas tie for the lowest validation cost: return the larger (the simpler network)."
        elif float(got).is_integer() and 0 <= got < n and vals[int(got)] == vals.min():
            hint = "that is the index of the best lambda: return the lambda itself, lams[index]."
        elif got == float(lams[np.argmax(vals)]):
            hint = "that lambda has the highest validation cost: look for the lowest."
        else:
            hint = "return the lambda whose validation cost is the lowest."
        raise AssertionError(f"best_lambda({_shown(lams)}, {_shown(vals)}) should be {want:.6g}, got {got:.6g}: {hint} "
                             f"({case})")
    repeat(one, times=8)


# ---------------------------------------------------------------- Part E: early stopping


def _decisive(history, margin=1e-9) -> bool:
    """True when no improvement decision of the run hinges on costs closer than ``margin`` (relative)."""
    best = np.inf
    for v in history:
        if np.isfinite(best) and abs(v - best) <= margin * abs(best):
            return False
        best = min(best, v)
    return True


def check_early_stopping(fit_early_stopping) -> None:
    """Given the reference gradient as ``grad``, so that a wrong backprop of Part A.2 costs nothing here."""
    def one(case: Case) -> None:
        while True:
            sizes, _, _, X, Y, Xv, Yv = _problem(case)
            lam = float(case.rng.choice([0.0, case.rng.uniform(0.01, 0.5)]))
            eta = float(case.rng.uniform(1.0, 4.0))   # bold steps: the validation cost turns up within a few dozen epochs
            max_epochs, patience = case.integer(10, 40), case.integer(1, 4)
            seed = int(case.rng.integers(0, 2**31))
            args = (X, Y, sizes, lam, eta, max_epochs, patience, seed, Xv, Yv)
            rW, rb, r_epoch, r_hist = reg.fit_early_stopping(*args)
            # A right answer computes in another order than the reference: the run must not amplify round-off. The
            # inputs nudged by 1e-15 must give the same stop and parameters to 1e-11 (in 300 draws the worst was 1e-14).
            nudged = reg.fit_early_stopping(X * (1 + 1e-15 * case.rng.normal(size=X.shape)), *args[1:])
            steady = nudged[2] == r_epoch and len(nudged[3]["val"]) == len(r_hist["val"]) and max(
                relative_error(a, b) for a, b in zip(nudged[0], rW)) <= 1e-11
            if steady and all(np.isfinite(r_hist["val"])) and _decisive(r_hist["val"]):
                break
        grad = Given(reference_grad)
        out = call("fit_early_stopping", fit_early_stopping, X.copy(), Y.copy(), list(sizes), lam, eta, max_epochs,
                   patience, seed, Xv.copy(), Yv.copy(), grad)
        unused(grad, "fit_early_stopping", "grad", "gradient")
        if not (isinstance(out, tuple) and len(out) == 4):
            raise AssertionError("fit_early_stopping should return (Ws, bs, best_epoch, history).")
        Ws, bs, epoch, hist = out
        if not (isinstance(hist, dict) and {"train", "val"} <= set(hist)):
            raise AssertionError("history should be a dict with the lists 'train' and 'val'.")
        where = (f"(max_epochs = {max_epochs}, patience = {patience}; the reference's validation costs "
                 f"{_shown(r_hist['val'][:5])}, best at epoch {r_epoch}, stopped after {len(r_hist['val'])}) ({case})")
        got_val = np.ravel(as_float_array("history['val']", hist["val"]))
        n = min(len(got_val), len(r_hist["val"]))
        if n == 0 or relative_error(got_val[:n], np.asarray(r_hist["val"][:n])) > 1e-8:
            raise AssertionError("history['val'] differs from the reference run from its first epochs on: train as "
                                 "fit does (same start, one step W - eta * dW with (dWs, dbs) = grad(Ws, bs, X, Y, lam) "
                                 "per epoch, J0 on the validation set after each step). " + where)
        if len(got_val) != len(r_hist["val"]):
            variants = {"an epoch late: stop when the validation cost has not improved for `patience` epochs, i.e. "
                        "as soon as epoch - best_epoch reaches patience": dict(patience_offset=1),
                        "an epoch early: stop when epoch - best_epoch reaches patience, not patience - 1":
                        dict(patience_offset=-1),
                        "on the training cost: early stopping watches the validation cost": dict(monitor="train")}
            runs = {h: reg.fit_early_stopping(*args, **kw) for h, kw in variants.items()}
            got_epoch = epoch if np.ndim(epoch) == 0 and isinstance(epoch, (int, float, np.number)) else None
            hint = next((h for h, r in runs.items() if len(r[3]["val"]) == len(got_val) and r[2] == got_epoch),
                        next((h for h, r in runs.items() if len(r[3]["val"]) == len(got_val)), ""))
            raise AssertionError(f"fit_early_stopping ran {len(got_val)} epochs; the reference stops after "
                                 f"{len(r_hist['val'])}. {('It stops ' + hint + '.') if hint else ''} " + where)
        if check_scalar("best_epoch", epoch) != r_epoch:
            hint = (" Count epochs from 1: best_epoch is the number of steps that gave the best parameters."
                    if check_scalar("best_epoch", epoch) == r_epoch - 1 else "")
            raise AssertionError(f"best_epoch should be {r_epoch}, the epoch of the lowest validation cost; got "
                                 f"{epoch}.{hint} " + where)
        last = reg.fit(X, Y, sizes, lam, eta, len(r_hist["val"]), seed, Xv, Yv)[0]
        if len(Ws) != len(rW) or len(bs) != len(rb):
            raise AssertionError("fit_early_stopping should return one weight matrix and one bias per layer.")
        if r_epoch != len(r_hist["val"]) and np.allclose(np.asarray(Ws[0], dtype=float), last[0], rtol=1e-8, atol=1e-12):
            raise AssertionError("the returned parameters are those of the last epoch run: return a copy of the "
                                 f"parameters of the best epoch, {r_epoch}. " + where)
        try:
            for l in range(len(rW)):
                compare(f"W^{l + 1} of the best epoch", Ws[l], rW[l], case, tol=1e-8)
                compare(f"b^{l + 1} of the best epoch", bs[l], rb[l], case, tol=1e-8)
        except AssertionError as e:
            raise AssertionError(str(e).replace("against the numerical gradient", "against the reference run")) from None
    repeat(one, times=4)
