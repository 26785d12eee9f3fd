"""Hidden-test checks for notebook 02, backpropagation through any depth.

Every gradient is compared with complex-step derivatives of the reference cost (``autograder.reference.mlp.cost``),
never with the student's own forward pass; they are exact to a few ulps (``numgrad``), so the 1e-6 tolerance is many
orders of magnitude above the reference's own error on every network drawn. Networks are drawn at grading time: depth 2 to 5, activations sigmoid/tanh/relu, non-zero
biases, layer sizes that differ from layer to layer (so a missing transpose cannot hide) and the square 16-16-16 case
(so it cannot hide behind a shape error either), batches of one example and of several (a missing 1/m or a bias summed
on the wrong axis only shows with several). A failure names the layer and, where it can, the bug.
"""
from __future__ import annotations

import numpy as np

from ..reference import mlp
from .diagnose import diagnose_backprop, layer_errors
from .numgrad import complex_step_derivative, complex_step_gradient
from .nb02_networks import (_call_net, _copies, _describe, _judge, _layer_list, _network, _num_dW, _num_db, _num_delta, _plans, _sizes)
from ._core import TOLERANCE, Case, as_float_array, call, check_scalar, compare, mapping, remote_checks, repeat


# ---------------------------------------------------------------- Part A: activations


def _activation_pair(ACTIVATIONS, name):
    pair = ACTIVATIONS[name]
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(callable(p) for p in pair)):
        raise AssertionError(f"ACTIVATIONS[{name!r}] should be a pair (f, f_prime) of functions.")
    return pair


def check_tanh(ACTIVATIONS) -> None:
    mapping("ACTIVATIONS", ACTIVATIONS, ["sigmoid", "tanh"])

    def one(case: Case) -> None:
        z = case.normal(case.integer(1, 5), case.integer(1, 4), scale=2.0)
        for name, f_ref in (("sigmoid", mlp.sigmoid), ("tanh", np.tanh)):
            f, fp = _activation_pair(ACTIVATIONS, name)
            compare(f"{name}(z)", call(name, f, z.copy()), f_ref(z), case, tol=1e-12)
            compare(f"{name}'(z)", call(f"{name}'", fp, z.copy()), complex_step_derivative(f_ref, z), case)
    repeat(one)


def check_relu(ACTIVATIONS) -> None:
    mapping("ACTIVATIONS", ACTIVATIONS, ["relu"])
    f, fp = _activation_pair(ACTIVATIONS, "relu")

    def one(case: Case) -> None:
        z = case.nonzero(case.integer(1, 5), case.integer(1, 4), low=0.01, high=3.0)
        compare("relu(z)", call("relu", f, z.copy()), mlp.relu(z), case, tol=1e-12)
        compare("relu'(z)", call("relu'", fp, z.copy()), complex_step_derivative(mlp.relu, z), case)
    repeat(one)


# ---------------------------------------------------------------- Part B: the depth-1 chain


def _chain_case(case: Case):
    L = case.integer(1, 6)
    w = [float(v) for v in case.normal(L, scale=1.5)]
    b = [float(v) for v in case.nonzero(L)]
    a0 = float(case.normal(1)[0])
    y = float(case.rng.uniform(0.0, 1.0))
    return w, b, a0, y


def _chain_cost(w, b, a0, y):
    """The chain's cost, complex-safe: complex-step derivatives run it with one w or b complex."""
    a = a0
    for wi, bi in zip(w, b):
        a = mlp.sigmoid(np.asarray(wi * a + bi))[()]
    return (a - y) ** 2


def check_chain_forward(chain_forward) -> None:
    def one(case: Case) -> None:
        w, b, a0, y = _chain_case(case)
        out = call("chain_forward", chain_forward, list(w), list(b), a0)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError("chain_forward should return a tuple (zs, acts).")
        L = len(w)
        zs = _layer_list("zs", out[0], L, "z^(1) .. z^(L)")
        acts = _layer_list("acts", out[1], L + 1, "a^(0) .. a^(L)")
        a, want_z, want_a = a0, [], [a0]
        for wi, bi in zip(w, b):
            want_z.append(wi * a + bi)
            a = float(mlp.sigmoid(np.float64(want_z[-1])))
            want_a.append(a)
        compare("zs", np.ravel(zs), want_z, case, tol=1e-12)
        compare("acts (a^(0) first)", np.ravel(acts), want_a, case, tol=1e-12)
    repeat(one)


def check_chain_backprop(chain_backprop) -> None:
    def one(case: Case) -> None:
        w, b, a0, y = _chain_case(case)
        out = call("chain_backprop", chain_backprop, list(w), list(b), a0, y)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError("chain_backprop should return a tuple (dw, db).")
        L = len(w)
        dw = [check_scalar(f"dC/dw^({l + 1})", v) for l, v in enumerate(_layer_list("dw", out[0], L, "one number"))]
        db = [check_scalar(f"dC/db^({l + 1})", v) for l, v in enumerate(_layer_list("db", out[1], L, "one number"))]
        want_w = complex_step_gradient(lambda ww: _chain_cost(ww, b, a0, y), np.array(w))
        want_b = complex_step_gradient(lambda bb: _chain_cost(w, bb, a0, y), np.array(b))
        where = f"chain of {L} weights; {case}"
        acts = [a0]
        for wi, bi in zip(w, b):
            acts.append(float(mlp.sigmoid(np.float64(wi * acts[-1] + bi))))

        def chain_diagnosis():
            own = [want_b[l] * acts[l + 1] for l in range(L)]  # delta^(l) a^(l): the slip in notes 002
            if max(layer_errors([np.array(v) for v in dw], [np.array(v) for v in own])) <= TOLERANCE:
                return ("Diagnosis: dC/dw^(l) uses a^(l), the neuron's own output. The weight multiplies the "
                        "activation coming into its layer, so dz^(l)/dw^(l) = a^(l-1) (the slip in notes 002).")
            return None
        for label, got, want in (("dC/dw^({l})", dw, want_w), ("dC/db^({l})", db, want_b)):
            _judge(label, [np.array(g) for g in got], [np.array(v) for v in want], chain_diagnosis, 1, where)
    repeat(one)


#: Notes 002's formulas for the depth-1 chain (see the notebook's table): C and F are wrong, the rest right.
WRONG_FORMULAS_002 = frozenset({"C", "F"})


def check_wrong_formulas_002(wrong_formulas_002) -> None:
    if not isinstance(wrong_formulas_002, (set, frozenset, list, tuple)):
        raise AssertionError("wrong_formulas_002 should be a set of letters, such as {'A', 'E'}.")
    chosen = {str(x).strip().upper() for x in wrong_formulas_002}
    if chosen == WRONG_FORMULAS_002:
        return
    missed = len(WRONG_FORMULAS_002 - chosen)
    extra = len(chosen - WRONG_FORMULAS_002)
    parts = ([f"{missed} wrong formula(s) not flagged"] if missed else []) + \
            ([f"{extra} correct formula(s) flagged as wrong"] if extra else [])
    raise AssertionError("wrong_formulas_002 is not right: " + " and ".join(parts)
                         + ". Compare each formula with a central-difference slope at the example's numbers.")


# ---------------------------------------------------------------- Part C: forward pass and cost


def check_forward(forward) -> None:
    for kind, m, act in _plans(Case()):
        case = Case()  # one case per network: its seed alone reproduces it
        sizes = _sizes(case, kind)
        Ws, bs, X, Y = _network(case, sizes, m, act)
        where = _describe(case, sizes, m, act)
        out = _call_net("forward", forward, *_copies(Ws, bs, X, Y)[:3], act, where=where)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError("forward should return a tuple (zs, acts).")
        L = len(Ws)
        zs = _layer_list("zs", out[0], L, "z^1 .. z^L")
        acts = _layer_list("acts", out[1], L + 1, "a^0 = X, then a^1 .. a^L")
        want_z, want_a = mlp.forward(Ws, bs, X, act)
        for label, got, want in (("z^{}", zs, want_z), ("a^{}", acts, want_a)):
            for l, (g, w) in enumerate(zip(got, want)):
                name = label.format(l + 1 if label[0] == "z" else l)
                if g.shape != w.shape:
                    raise AssertionError(f"{name} has shape {g.shape}, expected {w.shape}: one column per example. "
                                         f"({where})")
                try:
                    compare(name, g, w, tol=1e-12)
                except AssertionError as e:
                    raise AssertionError(f"{e} ({where})") from None


def check_cost(cost) -> None:
    for kind, m, act in _plans(Case()):
        case = Case()  # one case per network: its seed alone reproduces it
        sizes = _sizes(case, kind)
        Ws, bs, X, Y = _network(case, sizes, m, act)
        got = check_scalar("cost(...)", _call_net("cost", cost, *_copies(Ws, bs, X, Y), act,
                                                      where=_describe(case, sizes, m, act)))
        want = mlp.cost(Ws, bs, X, Y, act)
        if abs(got - want) > 1e-10 * max(1.0, abs(want)):
            hint = ""
            if m > 1 and abs(got - m * want) < 1e-9 * abs(m * want):
                hint = " It is m times too large: J is the MEAN over the batch of the summed squared errors."
            elif abs(got * sizes[-1] - want) < 1e-9 * abs(want):
                hint = " Sum the squared errors over the output units; average only over the examples."
            raise AssertionError(f"cost is {got:.8g}, expected {want:.8g}.{hint} ({_describe(case, sizes, m, act)})")


# ---------------------------------------------------------------- Part D: the error signals delta^m


def check_deltas(deltas) -> None:
    for kind, m, act in _plans(Case()):
        case = Case()  # one case per network: its seed alone reproduces it
        sizes = _sizes(case, kind)
        Ws, bs, X, Y = _network(case, sizes, m, act)
        L = len(Ws)
        got = _layer_list("deltas(...)", _call_net("deltas", deltas, *_copies(Ws, bs, X, Y), act,
                                    where=_describe(case, sizes, m, act)), L,
                          "delta^1 .. delta^L")
        want = [_num_delta(Ws, bs, X, Y, act, l) for l in range(L)]
        _judge("delta^{l}", got, want,
               lambda: diagnose_backprop(Ws, bs, X, Y, act, got_deltas=got), m, _describe(case, sizes, m, act))


# ---------------------------------------------------------------- Part E: the gradients


def _check_backprop(backprop, which: str) -> None:
    for kind, m, act in _plans(Case()):
        case = Case()  # one case per network: its seed alone reproduces it
        sizes = _sizes(case, kind)
        Ws, bs, X, Y = _network(case, sizes, m, act)
        L = len(Ws)
        where = _describe(case, sizes, m, act)
        out = _call_net("backprop", backprop, *_copies(Ws, bs, X, Y), act, where=where)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError("backprop should return a tuple (dWs, dbs).")
        if which == "W":
            got = _layer_list("dWs", out[0], L, "dJ/dW^1 .. dJ/dW^L")
            want = [_num_dW(Ws, bs, X, Y, act, l, case.rng) for l in range(L)]
            _judge("dJ/dW^{l}", got, want, lambda: diagnose_backprop(Ws, bs, X, Y, act, got_dWs=got), m, where)
        else:
            got = _layer_list("dbs", out[1], L, "dJ/db^1 .. dJ/db^L")
            want = [_num_db(Ws, bs, X, Y, act, l) for l in range(L)]
            _judge("dJ/db^{l}", got, want, lambda: diagnose_backprop(Ws, bs, X, Y, act, got_dbs=got), m, where)


#: A network big enough that a gradient taken by central differences (2P forward passes) cannot hide: about 31,000
#: parameters. A real backprop on it costs one forward and one backward pass, a few milliseconds with the transfer.
BIG_SIZES = [200, 100, 100, 10]
#: Seconds a backprop on BIG_SIZES may always take. Measured on a quiet machine: ~1 ms for the reference, ~1.5 s for
#: the 2P forward passes of a numerical gradient.
BIG_BUDGET = 0.5
#: The budget in units of the reference backprop, timed in the judge just before: a numerical gradient costs about
#: 1,500 of them, a correct backprop 1 to 10 (its own speed, plus the arrays' trip through the socket).
BIG_FACTOR = 200
#: Tries before a slow backprop is called numerical. A busy machine slows the reference and the student alike (the
#: budget scales with it); a stall that hits only the student's call (a context switch, a page-in) does not repeat
#: three times, while a numerical gradient is slow on every try.
BIG_TRIES = 3


def _check_not_numerical(backprop) -> None:
    """Reject a "backprop" that differentiates numerically, by its cost against the reference's, on this machine now.

    The budget is ``max(BIG_BUDGET, BIG_FACTOR * t_ref)``, with ``t_ref`` the median of five reference backprops
    timed in the judge right before; the student's time is the best of up to ``BIG_TRIES`` calls. A numerical gradient
    is then ~7x over budget on every try, at any load; a correct backprop ~200x under it, and a chance stall would have
    to strike all three tries. tests/test_grading_faults.py grades a correct 02 on a machine kept busy by two
    CPU-bound processes (full marks) and a numerical one (rejected)."""
    import statistics
    import time
    case = Case()
    Ws, bs, X, Y = _network(case, BIG_SIZES, 4, "sigmoid")
    P = sum(W.size + b.size for W, b in zip(Ws, bs))
    refs = []
    for _ in range(5):
        t0 = time.perf_counter()
        mlp.backprop(Ws, bs, X, Y, "sigmoid")
        refs.append(time.perf_counter() - t0)
    t_ref = statistics.median(refs)
    budget = max(BIG_BUDGET, BIG_FACTOR * t_ref)
    t_student = float("inf")
    for _ in range(BIG_TRIES):
        t0 = time.perf_counter()
        out = _call_net("backprop", backprop, *_copies(Ws, bs, X, Y), "sigmoid", where=f"{BIG_SIZES}, m = 4")
        t_student = min(t_student, time.perf_counter() - t0)
        if t_student <= budget:
            break
    if t_student > budget:
        raise AssertionError(
            f"backprop took {t_student:.2f} s on a {'-'.join(map(str, BIG_SIZES))} network ({P:,} parameters), "
            f"{t_student / max(t_ref, 1e-9):,.0f} times one backward pass. That is the cost of a numerical gradient "
            f"(2P = {2 * P:,} forward passes): this part asks for the delta recursion, one forward and one backward pass.")
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError("backprop should return a tuple (dWs, dbs).")


def _check_integer_inputs(backprop, which: str) -> None:
    """Parameters and inputs of integer dtype, as a user may pass them: the gradients must still be exact floats.
    An accumulator made with np.zeros_like(W) would be an integer array and silently truncate them."""
    case = Case()
    sizes, m = [4, 5, 3], 3
    Ws = [case.rng.integers(-2, 3, size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [case.rng.choice([-1, 1], size=(o, 1)) for o in sizes[1:]]
    X = case.rng.integers(-2, 3, size=(sizes[0], m))
    Y = case.rng.uniform(0.05, 0.95, size=(sizes[-1], m))
    where = f"integer-dtype Ws, bs and X, layer sizes 4-5-3, batch of 3, sigmoid; {case}"
    advice = ("Diagnosis: an integer array holds the gradient: np.zeros_like(W) of an integer W is an integer array, "
              "and += truncates into it (or, in numpy 2, refuses to). Make float arrays (np.zeros(W.shape)) or compute "
              "the gradient directly as delta @ a.T.")
    try:
        out = _call_net("backprop", backprop, *_copies(Ws, bs, X, Y), "sigmoid", where=where)
    except AssertionError as e:
        if "cast" in str(e) or "UFuncTypeError" in str(e):
            raise AssertionError(f"backprop fails when the parameters and inputs are integer arrays ({where}): {e} "
                                 f"{advice}") from None
        raise
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError("backprop should return a tuple (dWs, dbs).")
    k = 0 if which == "W" else 1
    got = _layer_list("dWs" if k == 0 else "dbs", out[k], len(Ws), "one array per layer")
    for l in range(len(Ws)):
        want = _num_dW(Ws, bs, X, Y, "sigmoid", l, case.rng) if k == 0 else _num_db(Ws, bs, X, Y, "sigmoid", l)
        g = as_float_array(f"layer {l + 1}", got[l])
        mask = ~np.isnan(want)
        if g.shape != want.shape or not np.allclose(g[mask], want[mask], rtol=1e-5, atol=1e-7):
            raise AssertionError(
                f"{'dJ/dW' if k == 0 else 'dJ/db'}^{l + 1} is wrong when the parameters and inputs are integer arrays "
                f"({where}). {advice}")


def check_backprop_weights(backprop) -> None:
    _check_backprop(backprop, "W")
    _check_integer_inputs(backprop, "W")
    _check_not_numerical(backprop)


def check_backprop_biases(backprop) -> None:
    _check_backprop(backprop, "b")
    _check_integer_inputs(backprop, "b")


# ---------------------------------------------------------------- for the demo class and the pipeline tests

#: The classic: the error sent back through W^{m+1} instead of its transpose. Non-square layers raise a shape error,
#: the square 16-16-16 case gives wrong values; both messages say "transpose".
DEMO_BUG = {
    "cell": "deltas",
    "old": "Ws[l + 1].T @ delta",
    "new": "Ws[l + 1] @ delta",
    "loses": ["test_deltas", "test_backprop_weights", "test_backprop_biases"],
    "says": "transpose",
}

BROKEN_PART = {
    "cells": ["chain"],
    "loses": ["test_chain_forward", "test_chain_backprop"],
}


#: ben's written answer in the demo class: plausible, and worth partial credit by the rubric.
DEMO_WRITTEN = {
    "written_why_backwards": (
        "Backpropagation is faster because it reuses the deltas of the layer above instead of computing them "
        "again for every weight."
    ),
}


remote_checks(globals())
