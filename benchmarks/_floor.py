"""The per-submission floor and the feedback cost, for benchmarks/grading.py (issue 20).

Floor: the same submission's notebook executed with nbclient in a kernel that is already started and has already
imported what the notebook imports (numpy, matplotlib.pyplot, the course package), no nbgrader, no judge, no sandbox:
the CPU seconds of the kernel process (read from /proc while it runs) plus those of this process (nbclient) over the
notebook's cells alone. What the grader spends on a submission beyond that is its own cost.

Feedback: nbgrader's generate_feedback of every graded student of a course, one student per call, on one CLI worker
(``pool.Worker``, started and idle before the clock starts; the first page, which compiles the template, counts): the worker's CPU seconds per student.
"""
from __future__ import annotations

import os
import resource
import shutil
import tempfile
from pathlib import Path

#: Run in the kernel before the clock starts: what the course's notebooks import.
WARM_UP = "import numpy, matplotlib, matplotlib.pyplot\nfrom course import data, plots"
_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of a live process (and of its reaped children, with ``children``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15 if children else 13])
    return ticks / _TICK


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def notebook_floor(path: Path, timeout: float = 600) -> float:
    """CPU seconds (kernel + client) of running the notebook at ``path`` in a started, warmed-up kernel."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(WARM_UP))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    env["NBGRADER_EXECUTION"] = "autograde"
    work = Path(tempfile.mkdtemp(prefix="floor-"))
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(work)}})
        with client.setup_kernel(env=env):
            pid = client.km.provisioner.process.pid
            client.execute_cell(nb.cells[0], 0)
            k0, c0 = proc_cpu(pid), _self_cpu()
            for i, cell in enumerate(nb.cells[1:], 1):
                client.execute_cell(cell, i)
            return proc_cpu(pid) - k0 + _self_cpu() - c0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def class_floor(submitted: Path, who: dict[str, str], assignments: list[str], reps: int) -> tuple[float, dict]:
    """Mean floor per submission over the class (each kind measured ``reps`` times, the minimum kept), and the floor
    of each (assignment, kind)."""
    per_kind = {}
    for a in assignments:
        for kind in sorted(set(who.values())):
            student = next(s for s, d in sorted(who.items()) if d == kind)
            path = submitted / student / a / f"{a}.ipynb"
            per_kind[(a, kind)] = min(notebook_floor(path) for _ in range(reps))
    total = sum(per_kind[(a, who[s])] for a in assignments for s in who)
    return total / (len(who) * len(assignments)), per_kind


def feedback_cpu(course: Path, pairs: list[tuple[str, str]]) -> float:
    """Worker CPU seconds per student of nbgrader's generate_feedback, one student per call, on a warm worker."""
    from autograder.grading import pool

    worker = pool.Worker(0, course)
    worker.start()
    try:
        c = proc_cpu(worker.proc.pid, children=True)   # the first page compiles the template: counted
        for a, s in pairs:
            res = worker.call({"op": "generate_feedback", "assignment": a, "student": s}, timeout=600)
            if res.returncode != 0:
                raise RuntimeError(res.output[-2000:])
        return (proc_cpu(worker.proc.pid, children=True) - c) / len(pairs)
    finally:
        worker.stop()
