"""Numerical gradient against backprop: the cost of each as the parameter count grows (the curve of notebook 03).

For each network, on one batch of m examples (synthetic data, float64, sigmoid, lam = 0.1, 1 BLAS thread):

* backprop: one call of ``mlp.backprop`` (every partial derivative at once);
* full numerical gradient: ``autograder.checks.numgrad.numerical_gradient`` (central differences, the course's one
  implementation) of ``mlp.cost`` over every weight and bias: 2 cost evaluations per parameter;
* sampled check: the same central differences on ``--sample`` parameters per array, as the hidden tests do on
  large networks.

The ratio numerical / backprop is "how many backprops one full numerical gradient costs". It grows linearly with
the parameter count P: about 2P x (time of one cost) / (time of one backprop). Figures are the minimum of several
runs of CPU time (time.thread_time: the work runs in one thread), so other processes on a shared
machine disturb the figures less than wall time would.

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

from autograder.reference import mlp  # noqa: E402
from autograder.checks.numgrad import numerical_gradient, relative_error  # noqa: E402

SIZES = [[2, 2, 1], [4, 4, 2], [8, 8, 4], [16, 16, 8], [64, 16, 10], [196, 16, 16, 10], [784, 16, 16, 10]]
LAM = 0.1
# CPU time of this thread: the work is single-threaded (1 BLAS thread), and time spent preempted by other
# processes on a shared machine is not counted.
clock = time.thread_time
CHUNK = 25  # parameters per timed piece of the full numerical gradient (about 1-5 ms)


def n_params(sizes) -> int:
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def numeric_all(Ws, bs, X, Y, sample=None, rng=None):
    """Central differences of mlp.cost for every parameter array; with ``sample``, only that many entries each."""
    out = []
    for i, p in enumerate(Ws + bs):
        idx = None
        if sample is not None and sample < p.size:
            idx = [np.unravel_index(k, p.shape) for k in rng.choice(p.size, size=sample, replace=False)]
        out.append(numeric_one(Ws, bs, X, Y, i, idx))
    return out


def numeric_one(Ws, bs, X, Y, i, indices):
    """Central differences of mlp.cost with respect to parameter array i (Ws then bs), at ``indices`` (None: all)."""
    params = Ws + bs
    L = len(Ws)

    def f(q):
        trial = params[:i] + [q] + params[i + 1:]
        return mlp.cost(trial[:L], trial[L:], X, Y, "sigmoid", LAM)

    return numerical_gradient(f, params[i], indices=indices)


def bench(sizes, m, runs, full, sample, rng):
    data = np.random.default_rng(0)
    Ws, bs = mlp.init_params(sizes, np.random.default_rng(1))
    X = data.random((sizes[0], m))
    Y = mlp.one_hot(data.integers(0, sizes[-1], m), sizes[-1])
    P = n_params(sizes)

    t_bp = min(_timeit(lambda: mlp.backprop(Ws, bs, X, Y, "sigmoid", LAM), 1) for _ in range(200))
    t_cost = min(_timeit(lambda: mlp.cost(Ws, bs, X, Y, "sigmoid", LAM), 1) for _ in range(200))
    g = mlp.backprop(Ws, bs, X, Y, "sigmoid", LAM)
    row = {"sizes": "-".join(map(str, sizes)), "P": P, "backprop": t_bp, "cost": t_cost}

    if full:
        # Timed in chunks of at most CHUNK parameters, each the minimum of `runs` repetitions, and summed: a busy
        # moment on the shared machine then spoils one chunk's repetition, not the whole gradient.
        num, total = [], 0.0
        for i, p in enumerate(Ws + bs):
            g_i = np.full(p.shape, np.nan)
            all_idx = list(np.ndindex(p.shape))
            for k in range(0, len(all_idx), CHUNK):
                chunk = all_idx[k:k + CHUNK]
                best = float("inf")
                for _ in range(runs):
                    t = clock()
                    part = numeric_one(Ws, bs, X, Y, i, chunk)
                    best = min(best, clock() - t)
                total += best
                for idx in chunk:
                    g_i[idx] = part[idx]
            num.append(g_i)
        row["numeric"], row["numeric_extrapolated"] = total, False
        row["agree"] = relative_error(np.concatenate([a.ravel() for a in g[0] + g[1]]),
                                      np.concatenate([a.ravel() for a in num]))
    # sampled: `sample` entries per array (all of a smaller array)
    n_checked = sum(min(sample, p.size) for p in Ws + bs)
    t_sample = float("inf")
    for _ in range(max(runs, 3)):
        t = clock()
        numeric_all(Ws, bs, X, Y, sample=sample, rng=rng)
        t_sample = min(t_sample, clock() - t)
    row["sampled"], row["n_sampled"] = t_sample, n_checked
    if not full:  # the full gradient, extrapolated from the sample: the time per parameter is the same
        row["numeric"], row["numeric_extrapolated"], row["agree"] = t_sample * P / n_checked, True, None
    return row


def _timeit(fn, n):
    t = clock()
    for _ in range(n):
        fn()
    return (clock() - t) / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: fewer networks, the largest one extrapolated")
    ap.add_argument("--m", type=int, default=32, help="batch size (default 32)")
    ap.add_argument("--runs", type=int, default=None, help="repetitions per timed piece (default 5; 1 with --quick)")
    ap.add_argument("--sample", type=int, default=10, help="entries per parameter array in the sampled check")
    args = ap.parse_args(argv)
    runs = args.runs or (1 if args.quick else 5)
    sizes_list = [SIZES[0], SIZES[2], SIZES[4], SIZES[-1]] if args.quick else SIZES

    print("# benchmarks/numgrad.py: numerical gradient vs backprop")
    print("\n".join(C.machine_lines()))
    if args.quick:
        print("--quick: 4 networks, 1 repetition, the largest extrapolated from a sample: a smoke run, not a measurement")
    print(f"batch m = {args.m}, float64, sigmoid, lam = {LAM}, 1 BLAS thread; numerical gradient = "
          f"autograder.checks.numgrad.numerical_gradient (central differences, eps = 1e-6)")
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
