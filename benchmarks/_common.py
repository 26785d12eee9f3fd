"""Shared helpers for the benchmarks: the machine, the BLAS kernel, thread limits, optional torch, timing.

Benchmarks measure ratios against a baseline timed in the same process (never absolute times in tests). Every
benchmark runs without torch and says so.
"""
from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(REPO))

#: The environment variables that pick OpenBLAS's kernel and cache size on this machine.
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
#: Marker before the JSON a child process prints.
JSON_MARK = "@@BENCH-JSON@@"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info() -> list[dict]:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries ([] when threadpoolctl is missing)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return threadpool_info()


def numpy_blas() -> str:
    """One line: numpy's BLAS, its version and the kernel ("architecture") that threadpoolctl reports."""
    for lib in blas_info():
        if lib.get("user_api") == "blas" and "numpy" in lib.get("filepath", ""):
            return (f"{lib.get('internal_api')} {lib.get('version')} kernel={lib.get('architecture')} "
                    f"threads={lib.get('num_threads')}")
    for lib in blas_info():
        if lib.get("user_api") == "blas":
            return f"{lib.get('internal_api')} {lib.get('version')} kernel={lib.get('architecture')}"
    return "unknown (threadpoolctl not installed)"


def openblas_env() -> str:
    got = [f"{k}={os.environ[k]}" for k in OPENBLAS_VARS if k in os.environ]
    return " ".join(got) if got else "OPENBLAS_* unset"


def import_torch():
    """(torch, None) or (None, reason)."""
    try:
        import torch
    except ImportError as e:
        return None, f"torch is not installed ({e}); install the benchmark extra: pip install torch==2.13.0"
    return torch, None


def machine_lines() -> list[str]:
    torch, why = import_torch()
    lines = [
        f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}",
        f"python {platform.python_version()}, numpy {np.__version__}, BLAS: {numpy_blas()}",
        f"environment: {openblas_env()}",
        f"torch: {torch.__version__ + ' (' + torch.backends.cpu.get_cpu_capability() + ')' if torch else why}",
    ]
    try:
        load = os.getloadavg()
        lines.append(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
                     "(other processes on the machine make figures noisy; the minimum of several runs is reported)")
    except OSError:
        pass
    return lines


class Threads:
    """Pin numpy's BLAS (threadpoolctl) and torch (set_num_threads) to n threads inside a with block."""

    def __init__(self, n: int, torch=None):
        self.n, self.torch, self._ctl, self._old = n, torch, None, None

    def __enter__(self):
        try:
            from threadpoolctl import threadpool_limits
            self._ctl = threadpool_limits(limits=self.n)
        except ImportError:
            print("warning: threadpoolctl is not installed; numpy's BLAS threads are not pinned", file=sys.stderr)
        if self.torch is not None:
            self._old = self.torch.get_num_threads()
            self.torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        if self._ctl is not None:
            self._ctl.restore_original_limits()
        if self.torch is not None:
            self.torch.set_num_threads(self._old)


def min_time(fn, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def interleaved_min(fns: dict, runs: int, warmup: int = 1, clock=time.perf_counter) -> dict:
    """Minimum time of each callable over ``runs`` rounds, the callables taking turns in each round (so a busy
    moment on a shared machine hurts all of them alike). None entries are skipped and stay None. ``clock`` is
    time.perf_counter (wall) or time.process_time (CPU time of all the process's threads)."""
    live = {k: f for k, f in fns.items() if f is not None}
    for _ in range(warmup):
        for f in live.values():
            f()
    best = {k: (float("inf") if f is not None else None) for k, f in fns.items()}
    for _ in range(runs):
        for k, f in live.items():
            t = clock()
            f()
            best[k] = min(best[k], clock() - t)
    return best


def rerun_without_openblas_env(script: str, args: list[str], timeout: float = 900) -> dict | None:
    """Run ``script`` again in a child process with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its
    environment (for that one command only) and return the JSON it prints after JSON_MARK."""
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
    proc = subprocess.run([sys.executable, script, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or JSON_MARK not in proc.stdout:
        print(f"the run without OPENBLAS_* failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}",
              file=sys.stderr)
        return None
    return json.loads(proc.stdout.split(JSON_MARK, 1)[1])


def emit_json(payload: dict) -> None:
    print(JSON_MARK + json.dumps(payload))


def fmt_ratio(x) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (readable in a terminal too)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).rjust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|", *map(line, rows)])


def cell_seconds(cell) -> float:
    """A cell's own time from the timestamps nbclient records (record_timing=True)."""
    ex = cell.get("metadata", {}).get("execution", {})
    try:
        t0 = datetime.fromisoformat(ex["iopub.execute_input"].replace("Z", "+00:00"))
        t1 = datetime.fromisoformat(ex["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return (t1 - t0).total_seconds()


# ---------------------------------------------------------------- hidden-test timing (grading.py, notebooks.py)

HIDDEN_MARK = "@@HIDDEN-TIMES@@"
_BEGIN_HIDDEN = re.compile(r"^([ \t]*)### BEGIN HIDDEN TESTS[ \t]*$", re.M)
_END_HIDDEN = re.compile(r"^([ \t]*)### END HIDDEN TESTS[ \t]*$", re.M)


def instrument_hidden(nb):
    """A copy of ``nb`` whose hidden-test blocks record their wall and CPU (kernel process) seconds, with a first cell
    that starts the kernel's CPU clock and a last cell that prints, after HIDDEN_MARK, JSON
    {"hidden": {grade_id: [wall, cpu]}, "cpu": the kernel's CPU seconds for the whole notebook}. Returns
    (copy, number of hidden blocks). The notebook file is never written."""
    import copy

    import nbformat

    nb = copy.deepcopy(nb)
    clock = "(__import__('time').perf_counter(), __import__('time').process_time())"
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or "### BEGIN HIDDEN TESTS" not in cell.source:
            continue
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell{n}")
        n += 1
        src = _BEGIN_HIDDEN.sub(lambda m: f"{m.group(0)}\n{m.group(1)}__bench_t0 = {clock}", cell.source)
        src = _END_HIDDEN.sub(lambda m: (f"{m.group(1)}__bench_t1 = {clock}; __bench_hidden[{gid!r}] = "
                                         f"(__bench_t1[0] - __bench_t0[0], __bench_t1[1] - __bench_t0[1])\n"
                                         f"{m.group(0)}"), src)
        cell.source = src
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "__bench_hidden = {}; __bench_cpu0 = __import__('time').process_time()"))
    nb.cells.append(nbformat.v4.new_code_cell(
        f"print({HIDDEN_MARK!r} + __import__('json').dumps({{'hidden': __bench_hidden, "
        "'cpu': __import__('time').process_time() - __bench_cpu0}))"))
    return nb, n


def hidden_report(executed_nb) -> dict:
    """What the last cell of an executed ``instrument_hidden`` copy printed ({} when it did not run)."""
    for out in executed_nb.cells[-1].get("outputs", []):
        if out.get("output_type") == "stream" and HIDDEN_MARK in out.get("text", ""):
            return json.loads(out["text"].split(HIDDEN_MARK, 1)[1])
    return {}
