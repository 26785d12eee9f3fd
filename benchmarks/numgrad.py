"""Numerical gradient against backprop: the cost of each as the parameter count grows (the curve of notebook 03).

For each network, on one batch of m examples (synthetic data, float64, sigmoid, lam = 0.1, 1 BLAS thread):

* backprop: one call of ``mlp.backprop`` (every partial derivative at once);
* full numerical gradient: ``autograder.numgrad.numerical_gradient`` (central differences, the course's one
  implementation) of ``mlp.cost`` over every weight and bias: 2 cost evaluations per parameter;
* sampled check: the same central differences on ``--sample`` parameters per array, as the hidden tests do on
  large networks.

The ratio numerical / backprop is "how many backprops one full numerical gradient costs". It grows linearly with
the parameter count P: about 2P x (time of one cost) / (time of one backprop). Figures are the minimum of several
runs; the machine is shared, so expect noise of 10-20 %.

    .venv/bin/python benchmarks/numgrad.py            # default (about half a minute)
    .venv/bin/python benchmarks/numgrad.py --quick    # smoke run: the largest network is sampled and extrapolated
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

from autograder import mlp  # noqa: E402
from autograder.numgrad import numerical_gradient, relative_error  # noqa: E402

SIZES = [[2, 2, 1], [4, 4, 2], [8, 8, 4], [16, 16, 8], [64, 16, 10], [196, 16, 16, 10], [784, 16, 16, 10]]
LAM = 0.1


def n_params(sizes) -> int:
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def numeric_all(Ws, bs, X, Y, sample=None, rng=None):
    """Central differences of mlp.cost for every parameter array; with ``sample``, only that many entries each."""
    params = Ws + bs
    L = len(Ws)
    out = []
    for i, p in enumerate(params):
        def f(q, i=i):
            trial = params[:i] + [q] + params[i + 1:]
            return mlp.cost(trial[:L], trial[L:], X, Y, "sigmoid", LAM)
        idx = None
        if sample is not None and sample < p.size:
            flat = rng.choice(p.size, size=sample, replace=False)
            idx = [np.unravel_index(k, p.shape) for k in flat]
        out.append(numerical_gradient(f, p, indices=idx))
    return out


def bench(sizes, m, runs, full, sample, rng):
    data = np.random.default_rng(0)
    Ws, bs = mlp.init_params(sizes, np.random.default_rng(1))
    X = data.random((sizes[0], m))
    Y = mlp.one_hot(data.integers(0, sizes[-1], m), sizes[-1])
    P = n_params(sizes)

    t_bp = min(_timeit(lambda: mlp.backprop(Ws, bs, X, Y, "sigmoid", LAM), max(runs, 1)) for _ in range(3))
    t_cost = min(_timeit(lambda: mlp.cost(Ws, bs, X, Y, "sigmoid", LAM), max(runs, 1)) for _ in range(3))
    g = mlp.backprop(Ws, bs, X, Y, "sigmoid", LAM)
    row = {"sizes": "-".join(map(str, sizes)), "P": P, "backprop": t_bp, "cost": t_cost}

    if full:
        best, num = float("inf"), None
        for _ in range(runs):
            t = time.perf_counter()
            num = numeric_all(Ws, bs, X, Y)
            best = min(best, time.perf_counter() - t)
        row["numeric"], row["numeric_extrapolated"] = best, False
        row["agree"] = relative_error(np.concatenate([a.ravel() for a in g[0] + g[1]]),
                                      np.concatenate([a.ravel() for a in num]))
    # sampled: `sample` entries per array (all of a smaller array)
    n_checked = sum(min(sample, p.size) for p in Ws + bs)
    t_sample = float("inf")
    for _ in range(max(runs, 3)):
        t = time.perf_counter()
        numeric_all(Ws, bs, X, Y, sample=sample, rng=rng)
        t_sample = min(t_sample, time.perf_counter() - t)
    row["sampled"], row["n_sampled"] = t_sample, n_checked
    if not full:  # the full gradient, extrapolated from the sample: the time per parameter is the same
        row["numeric"], row["numeric_extrapolated"], row["agree"] = t_sample * P / n_checked, True, None
    return row


def _timeit(fn, n):
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: fewer networks, the largest one extrapolated")
    ap.add_argument("--m", type=int, default=32, help="batch size (default 32)")
    ap.add_argument("--runs", type=int, default=None, help="repetitions per figure (default 3; 1 with --quick)")
    ap.add_argument("--sample", type=int, default=10, help="entries per parameter array in the sampled check")
    args = ap.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    sizes_list = [SIZES[0], SIZES[2], SIZES[4], SIZES[-1]] if args.quick else SIZES

    print("# benchmarks/numgrad.py: numerical gradient vs backprop")
    print("\n".join(C.machine_lines()))
    print(f"batch m = {args.m}, float64, sigmoid, lam = {LAM}, 1 BLAS thread; numerical gradient = "
          f"autograder.numgrad.numerical_gradient (central differences, eps = 1e-6)")
    rng = np.random.default_rng(2)
    rows = []
    with C.Threads(1):
        for sizes in sizes_list:
            full = not (args.quick and sizes == SIZES[-1])
            rows.append(bench(sizes, args.m, runs, full, args.sample, rng))
    table = []
    for r in rows:
        table.append([r["sizes"], f"{r['P']:,}", f"{r['backprop'] * 1e6:.0f} us", f"{r['cost'] * 1e6:.0f} us",
                      f"{r['numeric']:.3g} s" + (" (extrap.)" if r["numeric_extrapolated"] else ""),
                      f"{r['numeric'] / r['backprop']:,.0f}", f"{2 * r['P'] * r['cost'] / r['backprop']:,.0f}",
                      "-" if r["agree"] is None else f"{r['agree']:.0e}",
                      f"{r['n_sampled']}: {r['sampled'] * 1e3:.1f} ms = {r['sampled'] / r['backprop']:,.0f} bp"])
    print()
    print(C.table(["network", "parameters P", "backprop", "cost J", "full numerical", "numerical/backprop",
                   "2P x cost/backprop", "rel. diff", "sampled check (params: time)"], table))
    print()
    for r in rows:
        print(f"RATIO numerical/backprop [{r['sizes']}, {r['P']:,} parameters, m={args.m}]: "
              f"{r['numeric'] / r['backprop']:,.0f} backprops per full numerical gradient"
              + (" (extrapolated from a sample)" if r["numeric_extrapolated"] else ""))
    big = rows[-1]
    print(f"\nOn {big['sizes']}, checking {big['n_sampled']} sampled parameters costs "
          f"{big['sampled'] * 1e3:.0f} ms instead of {big['numeric']:.2f} s for all {big['P']:,}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
