"""The reference numpy MLP (autograder/reference/mlp.py) against PyTorch on the CPU and against the GEMM floor.

One epoch = one shuffled pass over M = 5,000 examples (784 pixels, 10 classes, synthetic random data: nothing is
downloaded) in minibatches, each with a forward pass, a backward pass and an SGD update. The last minibatch is the
remainder (8 examples for batches of 32 and 128). Sigmoid everywhere, squared-error cost of the course, lam = 0.

* numpy: ``mlp.backprop`` on the batch, then ``W -= lr * dW`` in place. The data sit one example per row in memory,
  so a shuffled batch is a gather of contiguous rows into a reused buffer, and ``a^0 = buffer.T`` is the course's
  (784, m) matrix without a copy.
* torch: the idiomatic loop: ``nn.Sequential(Linear, Sigmoid, ...)``, ``torch.randperm`` + ``index_select`` each
  epoch, ``loss.backward()``, ``optim.SGD.step()``; the same initial weights and the same cost.
* plain loop (for information, no target): the same backprop in the loop a notebook would first write: X kept
  (784, M), batches ``X[:, idx]`` (scattered columns), ``Ws = [W - lr * dW ...]``.
* floor: only the matrix products of the numpy epoch, with the same shapes, operand layouts and number of calls
  (per batch: L products forward, L for dJ/dW, L-1 for the deltas), into preallocated outputs. It is what the
  epoch would cost if everything else (activations, cost, shuffling, copies, the update) were free.

Each figure is the minimum over ``--runs`` epochs (5), the three contenders taking turns. Threads are pinned with
threadpoolctl and torch.set_num_threads: 1 thread, then 2. When OPENBLAS_CORETYPE is set, the script runs again in
a child process with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed (for that one command) and reports both.

    .venv/bin/python benchmarks/trainer.py            # the full run (1 min on a quiet 2-core machine, ~3 busy)
    .venv/bin/python benchmarks/trainer.py --quick    # a smoke run of a few seconds
    .venv/bin/python benchmarks/trainer.py --clock cpu --threads 1   # CPU time: steadier on a busy machine

Lines starting with RATIO are the targets of issue 8:
numpy <= 0.5 x torch on 784-16-16-10, batch 32, float64; numpy <= 1.5 x the GEMM floor on 784-128-64-10, batch 128.
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

N_IN, N_OUT = 784, 10
NETS = {"784-16-16-10": [784, 16, 16, 10], "784-128-64-10": [784, 128, 64, 10]}
LR = 0.5
TARGET_TORCH = ("784-16-16-10", 32, "float64", 0.5)
TARGET_FLOOR = ("784-128-64-10", 128, "float64", 1.5)
# wall: the measure. cpu: CPU time of the process (all threads), for a busy machine (sensible with 1 thread).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def make_data(M: int, dtype, seed: int = 0):
    """Pixels in [0, 1) as (M, 784) rows and one-hot targets as (M, 10) rows."""
    rng = np.random.default_rng(seed)
    Xr = rng.random((M, N_IN)).astype(dtype)
    Yr = np.ascontiguousarray(mlp.one_hot(rng.integers(0, N_OUT, M), N_OUT, dtype=dtype).T)
    return Xr, Yr


def batches(M: int, B: int):
    return [(k, min(k + B, M)) for k in range(0, M, B)]


def numpy_epoch(sizes, B, Xr, Yr, seed=1):
    M, dtype = Xr.shape[0], Xr.dtype
    Ws, bs = mlp.init_params(sizes, np.random.default_rng(seed), dtype=dtype)
    rng = np.random.default_rng(seed + 1)
    xbuf, ybuf = np.empty((B, N_IN), dtype), np.empty((B, N_OUT), dtype)
    spans = batches(M, B)

    def epoch():
        perm = rng.permutation(M)
        for k0, k1 in spans:
            idx = perm[k0:k1]
            xb = np.take(Xr, idx, axis=0, out=xbuf[: k1 - k0], mode="clip")
            yb = np.take(Yr, idx, axis=0, out=ybuf[: k1 - k0], mode="clip")
            dWs, dbs = mlp.backprop(Ws, bs, xb.T, yb.T, "sigmoid")
            for W, dW in zip(Ws, dWs):
                dW *= LR
                W -= dW
            for b, db in zip(bs, dbs):
                db *= LR
                b -= db

    return epoch, (Ws, bs)


def numpy_plain_epoch(sizes, B, Xr, Yr, seed=1):
    """For information (no target): the loop as a notebook would first write it. X is stored (784, M) as the course
    shows it, a batch is ``X[:, idx]`` (a gather of scattered columns) and the update builds new lists."""
    M, dtype = Xr.shape[0], Xr.dtype
    X, Y = np.ascontiguousarray(Xr.T), np.ascontiguousarray(Yr.T)
    state = list(mlp.init_params(sizes, np.random.default_rng(seed), dtype=dtype))
    rng = np.random.default_rng(seed + 1)
    spans = batches(M, B)

    def epoch():
        Ws, bs = state
        perm = rng.permutation(M)
        for k0, k1 in spans:
            idx = perm[k0:k1]
            dWs, dbs = mlp.backprop(Ws, bs, X[:, idx], Y[:, idx], "sigmoid")
            Ws = [W - LR * dW for W, dW in zip(Ws, dWs)]
            bs = [b - LR * db for b, db in zip(bs, dbs)]
        state[:] = [Ws, bs]

    return epoch


def floor_epoch(sizes, B, M, dtype, seed=3):
    """The numpy epoch's matrix products alone: same shapes, layouts (a^0 is a transposed row buffer, everything
    else C-ordered, W^T a transposed view) and call count, into preallocated outputs."""
    rng = np.random.default_rng(seed)
    L = len(sizes) - 1
    Ws = [rng.uniform(-0.1, 0.1, (sizes[l + 1], sizes[l])).astype(dtype) for l in range(L)]
    dWs = [np.empty_like(W) for W in Ws]

    def buffers(m):
        a0 = rng.random((m, N_IN)).astype(dtype).T
        acts = [a0] + [rng.random((n, m)).astype(dtype) for n in sizes[1:]]
        zs = [np.empty((n, m), dtype) for n in sizes[1:]]
        deltas = [rng.uniform(-0.1, 0.1, (n, m)).astype(dtype) for n in sizes[1:]]
        back = [np.empty((n, m), dtype) for n in sizes[1:]]
        return acts, zs, deltas, back

    by_size = {}
    spans = [k1 - k0 for k0, k1 in batches(M, B)]
    for m in set(spans):
        by_size[m] = buffers(m)
    matmul = np.matmul

    def epoch():
        for m in spans:
            acts, zs, deltas, back = by_size[m]
            for l in range(L):
                matmul(Ws[l], acts[l], out=zs[l])
            for l in range(L - 1, -1, -1):
                matmul(deltas[l], acts[l].T, out=dWs[l])
                if l > 0:
                    matmul(Ws[l].T, deltas[l], out=back[l - 1])

    return epoch


def torch_epoch(torch, sizes, B, Xr, Yr, params, seed=2):
    tdtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[Xr.dtype]
    Ws, bs = params
    layers = []
    for W, b in zip(Ws, bs):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=tdtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b.ravel()))
        layers += [lin, torch.nn.Sigmoid()]
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    X, Y = torch.from_numpy(Xr), torch.from_numpy(Yr)
    M = X.shape[0]
    gen = torch.Generator().manual_seed(seed)
    spans = batches(M, B)

    def epoch():
        perm = torch.randperm(M, generator=gen)
        Xs, Ys = X.index_select(0, perm), Y.index_select(0, perm)
        for k0, k1 in spans:
            x, y = Xs[k0:k1], Ys[k0:k1]
            loss = torch.nn.functional.mse_loss(net(x), y, reduction="sum") / (k1 - k0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return epoch, net


def check_same_gradient(torch, sizes, dtype) -> float:
    """Relative difference between mlp.backprop and torch autograd on one batch: both sides do the same work."""
    Xr, Yr = make_data(64, dtype, seed=5)
    params = mlp.init_params(sizes, np.random.default_rng(6), dtype=dtype)
    dWs, dbs = mlp.backprop(*params, Xr[:32].T, Yr[:32].T, "sigmoid")
    _, net = torch_epoch(torch, sizes, 32, Xr, Yr, [[p.copy() for p in ps] for ps in params])
    x, y = torch.from_numpy(Xr[:32]), torch.from_numpy(Yr[:32])
    (torch.nn.functional.mse_loss(net(x), y, reduction="sum") / 32).backward()
    lins = [m for m in net if isinstance(m, torch.nn.Linear)]
    mine = np.concatenate([g.ravel() for g in dWs + dbs])
    theirs = np.concatenate([l.weight.grad.numpy().ravel() for l in lins] + [l.bias.grad.numpy().ravel() for l in lins])
    return float(np.linalg.norm(mine - theirs) / np.linalg.norm(theirs))


def measure(threads_list, nets, batch_sizes, dtypes, M, runs, use_torch=True, gradcheck=True,
            clock="wall", plain=True) -> dict:
    torch, why = C.import_torch() if use_torch else (None, "torch disabled (--no-torch)")
    rows = []
    for n_threads in threads_list:
        with C.Threads(n_threads, torch):
            for net in nets:
                for B in batch_sizes:
                    for dt in dtypes:
                        dtype = np.dtype(dt)
                        Xr, Yr = make_data(M, dtype)
                        ep_np, params = numpy_epoch(NETS[net], B, Xr, Yr)
                        ep_t = None
                        if torch is not None:
                            ep_t, _ = torch_epoch(torch, NETS[net], B, Xr, Yr, [[p.copy() for p in ps] for ps in params])
                        ep_f = floor_epoch(NETS[net], B, M, dtype)
                        ep_p = numpy_plain_epoch(NETS[net], B, Xr, Yr) if plain else None
                        t = C.interleaved_min({"numpy": ep_np, "torch": ep_t, "floor": ep_f, "plain": ep_p}, runs,
                                              clock=CLOCKS[clock])
                        rows.append({"threads": n_threads, "net": net, "batch": B, "dtype": dtype.name, **t})
    gradcheck = check_same_gradient(torch, NETS["784-16-16-10"], np.float64) if torch and gradcheck else None
    return {"env": C.openblas_env(), "blas": C.numpy_blas(), "torch": None if torch is None else torch.__version__,
            "torch_missing": why, "rows": rows, "M": M, "runs": runs, "gradcheck": gradcheck, "clock": clock}


def find(res, net, B, dtype, threads):
    for r in res["rows"]:
        if (r["net"], r["batch"], r["dtype"], r["threads"]) == (net, B, dtype, threads):
            return r
    return None


def report(res) -> None:
    print(f"\n## {res['env']}: numpy BLAS {res['blas']}")
    print(f"M = {res['M']} examples per epoch, minimum of {res['runs']} epochs; times in ms per epoch "
          f"({'wall time' if res['clock'] == 'wall' else 'CPU time of the process, all threads'})")
    print("plain loop (for information, no target): the same mlp.backprop with X kept (784, M) and batches X[:, idx],"
          "\nnew weight lists each step, as a first notebook version would do")
    if res["torch"] is None:
        print(f"torch: not measured: {res['torch_missing']}")
    elif res["gradcheck"] is not None:
        print(f"same work: mlp.backprop vs torch autograd on one batch (784-16-16-10, float64): relative difference "
              f"{res['gradcheck']:.1e}")
    for n_threads in sorted({r["threads"] for r in res["rows"]}):
        print(f"\n{n_threads} thread{'s' if n_threads > 1 else ''}:")
        rows = []
        for r in res["rows"]:
            if r["threads"] != n_threads:
                continue
            tn, tt, tf, tp = r["numpy"], r["torch"], r["floor"], r.get("plain")
            rows.append([r["net"], r["batch"], r["dtype"], f"{tn * 1e3:.1f}", "n/a" if tt is None else f"{tt * 1e3:.1f}",
                         f"{tf * 1e3:.1f}", f"{(tn - tf) * 1e3:.1f}", C.fmt_ratio(tn / tt if tt else None),
                         C.fmt_ratio(tn / tf), C.fmt_ratio(tt / tf if tt else None),
                         "-" if tp is None else f"{tp * 1e3:.1f}",
                         "-" if tp is None or tt is None else C.fmt_ratio(tp / tt)])
        print(C.table(["net", "batch", "dtype", "numpy", "torch", "GEMM floor", "numpy - floor",
                       "numpy/torch", "numpy/floor", "torch/floor", "plain loop", "plain/torch"], rows))
    print()
    for n_threads in sorted({r["threads"] for r in res["rows"]}):
        where = f"{n_threads} thread{'s' if n_threads > 1 else ''}, {res['env']}"
        net, B, dt, target = TARGET_TORCH
        r = find(res, net, B, dt, n_threads)
        if r is not None:
            if r["torch"] is None:
                print(f"RATIO numpy/torch [{net}, batch {B}, {dt}, {where}]: n/a (torch not measured: "
                      f"{res['torch_missing']})")
            else:
                x = r["numpy"] / r["torch"]
                print(f"RATIO numpy/torch [{net}, batch {B}, {dt}, {where}]: {x:.2f} "
                      f"(target <= {target}: {'met' if x <= target else 'NOT met'})")
        net, B, dt, target = TARGET_FLOOR
        r = find(res, net, B, dt, n_threads)
        if r is not None:
            x = r["numpy"] / r["floor"]
            print(f"RATIO numpy/floor [{net}, batch {B}, {dt}, {where}]: {x:.2f} "
                  f"(target <= {target}: {'met' if x <= target else 'NOT met'})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 1,000 examples, the two target cases, 1 run")
    ap.add_argument("--runs", type=int, default=None, help="epochs timed per figure (default 5; 1 with --quick)")
    ap.add_argument("--threads", default=None, help="comma-separated thread counts (default 1,2; 1 with --quick)")
    ap.add_argument("--no-torch", action="store_true", help="do not import torch (as if it were not installed)")
    ap.add_argument("--no-env-compare", action="store_true", help="do not re-run with OPENBLAS_* unset")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                    help="wall time (default) or the process's CPU time (steadier on a busy machine, with 1 thread)")
    ap.add_argument("--no-plain", action="store_true", help="skip the informational plain-loop column")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    threads = [int(t) for t in (args.threads or ("1" if args.quick else "1,2")).split(",")]
    runs = args.runs or (1 if args.quick else 5)
    if args.quick:
        cases = [(TARGET_TORCH[0], TARGET_TORCH[1], TARGET_TORCH[2]), (TARGET_FLOOR[0], TARGET_FLOOR[1], TARGET_FLOOR[2])]
        M = 1000
    else:
        cases = [(net, B, dt) for net in NETS for B in (32, 128) for dt in ("float64", "float32")]
        M = 5000

    def run_all():
        out = None
        for net, B, dt in cases:
            res = measure(threads, [net], [B], [dt], M, runs, use_torch=not args.no_torch, gradcheck=out is None,
                          clock=args.clock, plain=not (args.no_plain or args.quick))
            if out is None:
                out = res
            else:
                out["rows"] += res["rows"]
        return out

    if args.child:
        C.emit_json(run_all())
        return 0

    print("# benchmarks/trainer.py: reference numpy MLP vs torch vs GEMM floor")
    print("\n".join(C.machine_lines()))
    if args.quick:
        print("--quick: 1,000 examples, the two target cases, 1 epoch each: a smoke run, not a measurement")
    res = run_all()
    report(res)
    if os.environ.get("OPENBLAS_CORETYPE") and not args.no_env_compare:
        child_args = ["--child", "--threads", ",".join(map(str, threads)), "--runs", str(runs), "--clock", args.clock]
        child_args += ["--quick"] if args.quick else []
        child_args += ["--no-plain"] if args.no_plain else []
        # --quick: the child skips torch (importing it again costs seconds); the kernel comparison needs numpy only
        child_args += ["--no-torch"] if args.no_torch or args.quick else []
        print(f"\n(re-running in a child process with {' and '.join(C.OPENBLAS_VARS)} removed from its environment)")
        other = C.rerun_without_openblas_env(os.path.abspath(__file__), child_args)
        if other is not None:
            report(other)
            print()
            for r in res["rows"]:
                o = find(other, r["net"], r["batch"], r["dtype"], r["threads"])
                if o is not None and (r["net"], r["batch"], r["dtype"]) == TARGET_FLOOR[:3]:
                    print(f"kernel effect [{r['net']}, batch {r['batch']}, {r['dtype']}, {r['threads']} thread(s)]: "
                          f"GEMM floor {r['floor'] * 1e3:.1f} ms ({res['blas'].split('kernel=')[-1].split()[0]}) vs "
                          f"{o['floor'] * 1e3:.1f} ms ({other['blas'].split('kernel=')[-1].split()[0]})")
    elif not os.environ.get("OPENBLAS_CORETYPE"):
        print("\nOPENBLAS_CORETYPE is not set: OpenBLAS picked its kernel itself; nothing to compare.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
