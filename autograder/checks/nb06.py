"""Hidden-test checks for notebook 06, mini-batch SGD on handwritten digits.

Gradients are compared with complex-step derivatives (exact to a few ulps, see ``numgrad``) of the reference cost
(``autograder.reference.mlp.cost``) on small random
networks with non-zero biases; the update and the training loop are compared with the reference MLP; the trained
accuracy is measured with the reference forward pass on the held-out digits, in a shrunk run that takes ~0.2 s.
Each part is graded on its own: sgd_epoch is given the reference gradient as ``grad`` and train the reference epoch as
``epoch_fn`` (``Given``, a judge-side function the student's code calls, as in notebook 05), in place of the student's
backprop (Part B.3/B.4) and sgd_epoch (C.2), and must use them; train still shuffles with the student's minibatches
(C.1) and records the student's cost (B.2).
"""
from __future__ import annotations

import numpy as np

from ..reference import mlp
from .numgrad import complex_step_gradient
from ._core import digits as _digits
from ._core import (Given, digit_params, unused, Case, as_float_array, call, check_scalar, compare, float_copies, layer_pair,
                    remote_checks, repeat)


def _net(case: Case, n_in=None, n_out=None):
    sizes = [n_in or case.integer(2, 6)] + [case.integer(2, 5) for _ in range(case.integer(1, 2))] + [n_out or case.integer(1, 4)]
    Ws = [case.normal(b, a, scale=0.8) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [case.nonzero(b, 1) for b in sizes[1:]]
    return sizes, Ws, bs


def _data(case: Case, sizes, m=None):
    m = m or case.integer(2, 7)
    X = case.normal(sizes[0], m)
    Y = case.rng.uniform(0.0, 1.0, size=(sizes[-1], m))
    return X, Y




# ---------------------------------------------------------------- Part A


def check_one_hot(one_hot) -> None:
    def one(case: Case) -> None:
        m = case.integer(1, 12)
        labels = case.rng.integers(0, 10, size=m)
        compare("one_hot(labels)", call("one_hot", one_hot, labels.copy()), mlp.one_hot(labels), case, tol=0)
    repeat(one)


# ---------------------------------------------------------------- Part B


def check_forward(forward) -> None:
    def one(case: Case) -> None:
        sizes, Ws, bs = _net(case)
        X, _ = _data(case, sizes)
        out = call("forward", forward, float_copies(Ws), float_copies(bs), X.copy())
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise AssertionError("forward should return (zs, activations).")
        zs, acts = out
        zs_ref, acts_ref = mlp.forward(Ws, bs, X)
        if len(zs) != len(zs_ref) or len(acts) != len(acts_ref):
            raise AssertionError(f"with {len(Ws)} layers, forward should return {len(zs_ref)} z's and "
                                 f"{len(acts_ref)} activations (a^0 = X first); got {len(zs)} and {len(acts)}.")
        for l, (z, zr) in enumerate(zip(zs, zs_ref)):
            compare(f"z^{l + 1}", z, zr, case, tol=1e-12)
        for l, (a, ar) in enumerate(zip(acts, acts_ref)):
            compare(f"a^{l}", a, ar, case, tol=1e-12)
    repeat(one)


def check_cost(cost) -> None:
    def one(case: Case) -> None:
        sizes, Ws, bs = _net(case)
        X, Y = _data(case, sizes)
        got = check_scalar("cost(...)", call("cost", cost, float_copies(Ws), float_copies(bs), X.copy(), Y.copy()))
        want = mlp.cost(Ws, bs, X, Y)
        if abs(got - want) > 1e-10 * max(1.0, abs(want)):
            m = X.shape[1]
            hint = ""
            if np.isclose(got, want * m):
                hint = " It is m times too large: average over the examples (divide by m)."
            elif np.isclose(got, want / 2):
                hint = " It is half the right value: this course's cost has no 1/2 in front."
            elif np.isclose(got, want / sizes[-1]):
                hint = " Sum the squared errors over the output units; average only over the examples."
            raise AssertionError(f"cost is {got:.6g}, expected {want:.6g} for a batch of {m}.{hint} ({case})")
    repeat(one)


def _check_backprop(backprop, which: int) -> None:
    label = "dJ/dW" if which == 0 else "dJ/db"

    def one(case: Case) -> None:
        sizes, Ws, bs = _net(case)
        X, Y = _data(case, sizes)
        out = layer_pair("backprop", call("backprop", backprop, float_copies(Ws), float_copies(bs), X.copy(), Y.copy()), len(Ws))
        params = Ws if which == 0 else bs
        for l, P in enumerate(params):
            def J(p, l=l):
                Ws2, bs2 = float_copies(Ws), float_copies(bs)
                (Ws2 if which == 0 else bs2)[l] = p
                return mlp.cost(Ws2, bs2, X, Y)
            compare(f"{label}^{l + 1}", out[which][l], complex_step_gradient(J, P), case, batch_size=X.shape[1])
    repeat(one)


def check_backprop_weights(backprop) -> None:
    _check_backprop(backprop, 0)


def check_backprop_biases(backprop) -> None:
    _check_backprop(backprop, 1)


# ---------------------------------------------------------------- Part C


def check_minibatches(minibatches) -> None:
    """A shuffled partition of range(m) into consecutive batches of batch_size (the last may be shorter)."""
    case = Case()
    for m, size in [(case.integer(20, 60), case.integer(2, 7)), (case.integer(5, 9), 1), (case.integer(5, 9), 50)]:
        seed = int(case.rng.integers(0, 2**31))
        out = call("minibatches", minibatches, m, size, seed)
        try:
            batches = [np.asarray(b).ravel() for b in out]
        except TypeError:
            raise AssertionError("minibatches should return a list of index arrays.") from None
        if not all(b.dtype.kind in "iu" for b in batches):
            raise AssertionError("each batch should be an array of integer indices.")
        sizes = [len(b) for b in batches]
        want = [size] * (m // size) + ([m % size] if m % size else [])
        if sizes != want:
            raise AssertionError(f"m = {m}, batch_size = {size}: batch sizes should be {want}, got {sizes}.")
        flat = np.concatenate(batches)
        if sorted(flat.tolist()) != list(range(m)):
            raise AssertionError(f"m = {m}: every index 0..{m - 1} should appear in exactly one batch.")
        again = np.concatenate([np.asarray(b).ravel() for b in call("minibatches", minibatches, m, size, seed)])
        if not np.array_equal(flat, again):
            raise AssertionError("minibatches should draw its shuffle from the rng it is given (same seed, same batches): "
                                 "start with rng = np.random.default_rng(rng).")
        if m >= 20 and np.array_equal(flat, np.arange(m)):
            raise AssertionError("the batches are not shuffled: take a permutation from rng first.")
    m = 30
    orders = {tuple(np.concatenate(call("minibatches", minibatches, m, 5, s)).tolist())
              for s in (1, 2, 3)}
    if len(orders) < 2:
        raise AssertionError("minibatches gives the same order for different rngs: shuffle with the rng you are given.")


def _as_reference_run(check):
    """Parameters are compared with the reference run, not with a numerical gradient: say so in the message."""
    def wrapped(*args):
        try:
            check(*args)
        except AssertionError as e:
            raise AssertionError(str(e).replace("against the numerical gradient", "against the reference run")) from None
    return wrapped


def reference_grad(Ws, bs, X, Y):
    """The reference gradient of notebook 06's cost, in the notebook's order of arguments."""
    return mlp.backprop(Ws, bs, X, Y)


def reference_epoch(Ws, bs, X, Y, eta, batches, grad=None):
    """The reference sgd_epoch: one step per batch, in order, with the reference gradient (``grad`` is ignored)."""
    Ws, bs = [np.array(W, dtype=float) for W in Ws], [np.array(b, dtype=float) for b in bs]
    for idx in batches:
        dW, db = mlp.backprop(Ws, bs, X[:, idx], Y[:, idx])
        Ws = [W - eta * d for W, d in zip(Ws, dW)]
        bs = [b - eta * d for b, d in zip(bs, db)]
    return Ws, bs


@_as_reference_run
def check_sgd_epoch(sgd_epoch) -> None:
    """One step per batch, in order, each with the reference gradient of that batch; compared as the total step.
    sgd_epoch is given the reference gradient as ``grad``, so that a wrong backprop of Part B costs nothing here."""
    def one(case: Case) -> None:
        sizes, Ws, bs = _net(case)
        m = case.integer(4, 10)
        X, Y = _data(case, sizes, m)
        size = case.integer(1, m)
        order = case.rng.permutation(m)
        batches = [order[k:k + size] for k in range(0, m, size)]
        eta = float(case.rng.uniform(0.1, 2.0))
        grad = Given(reference_grad)
        out = call("sgd_epoch", sgd_epoch, float_copies(Ws), float_copies(bs), X.copy(), Y.copy(), eta,
                   [b.copy() for b in batches], grad)
        unused(grad, "sgd_epoch", "grad", "gradient")
        out = layer_pair("sgd_epoch", out, len(Ws))
        rW, rb = reference_epoch(Ws, bs, X, Y, eta, batches)
        bsz = size if m % size == 0 and len(batches) == 1 else None
        for l in range(len(Ws)):
            compare(f"the step taken by W^{l + 1} over the epoch", Ws[l] - as_float_array("W", out[0][l]),
                    Ws[l] - rW[l], case, batch_size=bsz)
            compare(f"the step taken by b^{l + 1} over the epoch", bs[l] - as_float_array("b", out[1][l]),
                    bs[l] - rb[l], case, batch_size=bsz)
    repeat(one)




def check_train(train) -> None:
    """A shrunk run (2,000 images, 3 epochs, batches of 10, eta = 2) must reach 70% on the 1,000 held-out digits.

    The reference implementation reaches 82-89% in this run (20 seeds); random guessing gets 10%. train is given the
    reference sgd_epoch as ``epoch_fn``, so that a wrong backprop or sgd_epoch of Parts B and C.2 costs nothing here.
    """
    X_train, y_train, X_test, y_test = _digits()
    seed = int(Case().rng.integers(0, 2**31))
    n = 2000
    epoch_fn = Given(reference_epoch)
    out = call("train", train, X_train[:, :n].copy(), mlp.one_hot(y_train[:n]), [784, 16, 16, 10],
               2.0, 3, 10, seed, epoch_fn)
    unused(epoch_fn, "train", "epoch_fn", "sgd_epoch")
    if not (isinstance(out, tuple) and len(out) == 3):
        raise AssertionError("train should return (Ws, bs, losses).")
    Ws, bs, losses = out
    Ws, bs = layer_pair("train", (Ws, bs), 3)
    losses = as_float_array("losses", losses).ravel()
    if losses.size != 3:
        raise AssertionError(f"train should record one loss per epoch: 3 epochs gave {losses.size} losses.")
    Ws, bs = digit_params(Ws, bs)
    acc = float(np.mean(np.argmax(mlp.forward(Ws, bs, X_test)[1][-1], axis=0) == y_test))
    if not acc >= 0.70:
        raise AssertionError(f"after 3 epochs on 2,000 images (eta = 2, batches of 10, seed {seed}) the network "
                             f"classifies {acc:.1%} of the held-out digits; a working SGD gets over 80%. Check the "
                             "update direction and that every epoch visits every batch.")
    final = mlp.cost(Ws, bs, X_train[:, :n], mlp.one_hot(y_train[:n]))
    if abs(losses[-1] - final) > 1e-6 * max(1.0, final):
        raise AssertionError(f"the last recorded loss {losses[-1]:.5f} is not the training cost of the returned "
                             f"parameters ({final:.5f}): record cost(Ws, bs, X, Y) at the end of each epoch.")


# ---------------------------------------------------------------- Part D


def check_accuracy(predict, accuracy) -> None:
    def one(case: Case) -> None:
        sizes, Ws, bs = _net(case, n_out=case.integer(2, 6))
        X, _ = _data(case, sizes, case.integer(5, 20))
        want_pred = np.argmax(mlp.forward(Ws, bs, X)[1][-1], axis=0)
        got = as_float_array("predict(...)", call("predict", predict, float_copies(Ws), float_copies(bs), X.copy()))
        if got.shape != want_pred.shape or not np.array_equal(got, want_pred):
            raise AssertionError(f"predict should return the index of the largest output for each column, shape "
                                 f"{want_pred.shape}. ({case})")
        labels = want_pred.copy()
        flip = case.rng.choice(len(labels), size=case.integer(1, len(labels) - 1), replace=False)
        labels[flip] = (labels[flip] + 1) % sizes[-1]
        acc = check_scalar("accuracy(...)", call("accuracy", accuracy, float_copies(Ws), float_copies(bs), X.copy(), labels))
        want = 1.0 - len(flip) / len(labels)
        if abs(acc - want) > 1e-12:
            raise AssertionError(f"accuracy should be the fraction of correct predictions, {want:.4f}; got {acc}. ({case})")
    repeat(one)


# ---------------------------------------------------------------- for the demo class and the pipeline tests

DEMO_BUG = {
    "cell": "backprop",
    "old": "delta = sigmoid_prime(zs[-1]) * (2.0 / m) * (acts[-1] - Y)",
    "new": "delta = sigmoid_prime(zs[-1]) * (2.0 / m) * (Y - acts[-1])",
    "loses": ["test_backprop_weights", "test_backprop_biases"],  # sgd_epoch and train are given the reference
    "says": "sign error",
}

BROKEN_PART = {
    "cells": ["sgd", "train"],
    "loses": ["test_minibatches", "test_sgd_epoch", "test_train"],
}


#: ben's written answer in the demo class: plausible, and worth partial credit by the rubric.
DEMO_WRITTEN = {
    "written_noisy_steps": (
        "The curve is jagged because each mini-batch uses only a few images, so its gradient is noisy."
    ),
}


remote_checks(globals())
