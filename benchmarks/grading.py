"""Grading throughput: the course's CLI (long-lived nbgrader workers, one per core, grading in parallel) against plain
sequential ``nbgrader autograde`` (one process for the whole class), on the same generated class, in the same run.

1. A class of N submissions (default 40) is generated from the demo class (autograder/demo-class/): student ids
   s000, s001, ... take turns being ada (perfect), ben (the assignment's typical bug, DEMO_BUG), cy (blank: the
   release unchanged) and dee (one part left blank, BROKEN_PART). Every assignment that has a release/ and a demo
   class is used (01_chain_rule at least).
2. CLI: ``autograder.grading.classrun.grade(course, assignments, jobs=os.cpu_count())`` in a fresh course copy
   (``classrun.prepare``): generate_assignment, autograde in parallel (on ``jobs`` long-lived nbgrader workers,
   autograder/grading/worker.py; each submission with its own judge process and, where the machine allows, a sandboxed kernel; ``--no-sandbox`` turns the sandbox off),
   per-cell results capped by the judge, generate_feedback, grades.csv.
3. Sequential: in a second fresh course copy, ``nbgrader generate_assignment A`` then ``nbgrader autograde A --force``
   over all students in one process; then (timed apart, for the like-for-like ratio) generate_feedback and export.
   Headline ratio: sequential (generate_assignment + autograde) time / CLI time. The CLI also writes feedback and the
   CSV in its time, so the headline is conservative; the like-for-like ratio adds those steps to the sequential side.
   Plain nbgrader runs the hidden checks inside the kernel (no judge, no sandbox): it does less per submission.
   A third ratio estimates the idle-machine figure from CPU time (user + system of all child processes, which a busy
   machine disturbs much less than wall time): min(jobs, CPUs) x sequential CPU / CLI CPU.
4. The per-notebook floor: a kernel start plus a trivial one-cell notebook (nbclient), and ``nbgrader autograde`` of
   a trivial one-cell notebook for one student in a fresh process (nbgrader's start, its database and a kernel: what
   each submission would pay with one nbgrader process per submission), the same trivial notebook for several students
   in one nbgrader process (the sequential floor), and for several students on one CLI worker (``pool.Worker``,
   without judge or sandbox: the CLI's floor).
5. The hidden-test time per notebook: each assignment's source (solution) notebook executed with nbclient under
   NBGRADER_EXECUTION=autograde with record_timing=True: the graded test cells' time (cell timestamps) and the
   ``### BEGIN/END HIDDEN TESTS`` blocks' own time (timer lines added in memory by _common.instrument_hidden, shared with benchmarks/notebooks.py).

6. The per-submission floor (benchmarks/_floor.py): each kind's notebook executed with nbclient in an already-started
   kernel that has already imported numpy, matplotlib and the course package, no nbgrader: CPU of kernel + client for
   the notebook's cells alone, averaged over the class. Printed as ``CPU per submission: X s (floor Y s, ratio Z)``,
   X being the CLI's whole CPU (worker starts, generate_assignment, autograde, judge, sandbox, feedback, CSV, report)
   divided by the number of submissions.
7. The feedback page: nbgrader's generate_feedback of every graded student again, one per call, on one CLI worker:
   ``feedback CPU per student: X s``.

Targets (issue 20; issue 6 asked 1.8): CLI throughput at least 3.0x sequential like for like on 2 cores; CPU per 01
submission at most 1.3 s, aiming at 2x the floor; feedback at most 0.1 s of CPU per student. Hidden tests at most 1 s
per notebook.
The machine may be shared: the load average is printed before each phase, and figures are noisy.

    .venv/bin/python benchmarks/grading.py                # 40 submissions
    .venv/bin/python benchmarks/grading.py --quick        # 6 submissions, one floor repetition (smoke run)
    .venv/bin/python benchmarks/grading.py -n 20 --jobs 2 --keep /tmp/gb   # keep the two course copies
    .venv/bin/python benchmarks/grading.py --jobs 2 --scheduler local:2     # Dask against the local pool only
    .venv/bin/python benchmarks/grading.py --per-assignment                  # CPU per submission of each notebook
"""
from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402  (also puts the repo on sys.path)
import _floor  # noqa: E402

TARGET_RATIO = 3.0           # issue 20 (issue 6: 1.8)
TARGET_CPU_PER_SUB = 1.3     # s of CPU per 01 submission, feedback and CSV included (issue 20)
TARGET_FLOOR_RATIO = 2.0     # CPU per submission / floor (issue 20: an aim)
TARGET_FEEDBACK_CPU = 0.1    # s of CPU per student's feedback page (issue 20)
HIDDEN_BUDGET_S = 1.0
KINDS = [("ada", "perfect"), ("ben", "buggy (DEMO_BUG)"), ("cy", "blank"), ("dee", "one part blank (BROKEN_PART)")]


def child_cpu() -> float:
    """User + system CPU seconds of this process (the CLI's own collect and report work) and of every finished child
    process (nbgrader, judges and, through them, the kernels they ran)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def load() -> str:
    try:
        a, b, c = os.getloadavg()
        return f"load average {a:.2f} {b:.2f} {c:.2f}"
    except OSError:
        return "load average unknown"


def assignments_available(repo: Path) -> list[str]:
    from autograder.authoring import build
    from autograder.grading import nbg

    out = []
    for a in nbg.assignments(repo):
        if (repo / "release" / a / f"{a}.ipynb").exists() and all(
                (build.DEMO_DIR / s / a / f"{a}.ipynb").exists() for s, _ in KINDS):
            out.append(a)
    return out


def make_class(dest: Path, n: int, assignments: list[str]) -> dict[str, str]:
    """dest/<sNNN>/<assignment>/<assignment>.ipynb copied from the demo class; returns student -> demo student."""
    from autograder.authoring import build

    who = {}
    for i in range(n):
        student, demo = f"s{i:03d}", KINDS[i % len(KINDS)][0]
        who[student] = demo
        for a in assignments:
            path = dest / student / a / f"{a}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(build.DEMO_DIR / demo / a / f"{a}.ipynb", path)
    return who


def run_cli(work: Path, submitted: Path, assignments: list[str], jobs: int, isolate: bool | None):
    from autograder.grading import classrun, submission

    course = classrun.prepare(work / "cli", submitted=submitted)
    limits = submission.Limits(isolate=isolate)
    t, c = time.perf_counter(), child_cpu()
    outcomes = classrun.grade(course, assignments, jobs=jobs, limits=limits, progress=False,
                              log=lambda m: print(f"  (CLI) {m}", flush=True))
    return time.perf_counter() - t, child_cpu() - c, course, outcomes


def cli_extras(no_sandbox: bool) -> str:
    """What the CLI does per submission beyond plain ``nbgrader autograde``, as far as this checkout has it."""

    extras = ["precheck", "a long-lived nbgrader worker per job",
              "a judge process (hidden checks decided outside the kernel)"]
    if no_sandbox:
        extras.append("sandbox OFF (--no-sandbox)")
    else:
        from autograder.grading import sandbox
        ok, why = sandbox.available()
        extras.append("a sandboxed kernel" if ok else f"no sandbox ({why})")
    return "per submission: " + ", ".join(extras)


def run_sequential(work: Path, submitted: Path, assignments: list[str], timeout: float):
    """Plain nbgrader, one process per step, all students at once. Returns (times by step, CPU by step, course)."""
    from autograder.grading import classrun, gradebook, nbg

    course = classrun.prepare(work / "seq", submitted=submitted)
    db = gradebook.db_path(course)
    steps = ["generate_assignment", "autograde", "generate_feedback", "export"]
    times, cpu = dict.fromkeys(steps, 0.0), dict.fromkeys(steps, 0.0)

    def step(name, args, **kw):
        t, c = time.perf_counter(), child_cpu()
        nbg.run(args, cwd=course, db=db, plain=True, **kw)
        times[name] += time.perf_counter() - t
        cpu[name] += child_cpu() - c

    for a in assignments:
        step("generate_assignment", ["generate_assignment", a, "--force"])
        step("autograde", ["autograde", a, "--force"], timeout=timeout)
    for a in assignments:
        step("generate_feedback", ["generate_feedback", a, "--force"], check=False)
    step("export", ["export", f"--to={course / 'grades.csv'}"])
    return times, cpu, course


def gradebook_scores(course: Path, assignments: list[str]) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook, MissingEntry

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for a in assignments:
            for s in gb.students:
                try:
                    out[(a, s.id)] = float(gb.find_submission(a, s.id).score)
                except MissingEntry:
                    pass
    return out


# ---------------------------------------------------------------- floors

def trivial_nbclient(reps: int) -> float:
    """Kernel start + one trivial cell + shutdown, with nbclient (min over reps)."""
    import nbformat
    from nbclient import NotebookClient

    best = float("inf")
    for _ in range(reps):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1 + 1")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        t = time.perf_counter()
        NotebookClient(nb, timeout=60, kernel_name="python3").execute()
        best = min(best, time.perf_counter() - t)
    return best


def trivial_nbgrader(work: Path, reps: int, students: int) -> tuple[float, float, float, float]:
    """(min wall and CPU seconds of ``nbgrader autograde`` of a one-cell notebook for one student,
        wall and CPU seconds per student when ``students`` such notebooks are autograded by one nbgrader process)."""
    import nbformat

    from autograder.authoring import nbauthor
    from autograder.grading import nbg

    course = work / "floor"
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    shutil.copy2(C.REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    nbauthor.notebook([nbauthor.tests("test_trivial", 1, "assert 1 + 1 == 2")],
                      course / "source" / "floor" / "floor.ipynb")
    db = course / "gradebook.db"
    nbg.run(["generate_assignment", "floor", "--force"], cwd=course, db=db, plain=True)
    release = nbformat.read(course / "release" / "floor" / "floor.ipynb", as_version=4)
    for i in range(students):
        path = course / "submitted" / f"f{i:03d}" / "floor" / "floor.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(copy.deepcopy(release), path)
    one, one_cpu = float("inf"), float("inf")
    for _ in range(reps):
        t, c = time.perf_counter(), child_cpu()
        nbg.run(["autograde", "floor", "--student=f000", "--force"], cwd=course, db=db, timeout=120, plain=True)
        one, one_cpu = min(one, time.perf_counter() - t), min(one_cpu, child_cpu() - c)
    t, c = time.perf_counter(), child_cpu()
    nbg.run(["autograde", "floor", "--force"], cwd=course, db=db, timeout=600, plain=True)
    many, many_cpu = (time.perf_counter() - t) / students, (child_cpu() - c) / students
    worker, worker_cpu = trivial_worker(course, students)
    return one, one_cpu, many, many_cpu, worker, worker_cpu


def trivial_worker(course: Path, students: int) -> tuple[float, float]:
    """Wall and CPU seconds per student of the trivial notebook autograded on one CLI worker (``pool.Worker``, no
    judge, no sandbox), not counting the worker's own start. CPU is counted once the worker has exited."""
    from autograder.grading import pool

    worker = pool.Worker(0, course)
    worker.start()
    c_start = child_cpu()
    t = time.perf_counter()
    for i in range(students):
        res = worker.call({"op": "autograde", "assignment": "floor", "student": f"f{i:03d}"}, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(res.output[-2000:])
    wall = (time.perf_counter() - t) / students
    start_cpu = _worker_start_cpu(course)
    worker.stop()
    return wall, max(0.0, child_cpu() - c_start - start_cpu) / students


def _worker_start_cpu(course: Path) -> float:
    """CPU seconds of starting a worker and stopping it idle (subtracted from the floor above)."""
    from autograder.grading import pool

    c = child_cpu()
    w = pool.Worker(0, course)
    w.start()
    w.stop()
    return child_cpu() - c


# ---------------------------------------------------------------- hidden tests

def hidden_times(assignment: str, timeout: int = 600) -> dict:
    """Execute the source notebook under NBGRADER_EXECUTION=autograde; time the graded test cells and hidden blocks."""
    import nbformat
    from nbclient import NotebookClient

    path = C.REPO / "source" / assignment / f"{assignment}.ipynb"
    nb, n_hidden = C.instrument_hidden(nbformat.read(path, as_version=4))
    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    env["NBGRADER_EXECUTION"] = "autograde"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True, record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    t = time.perf_counter()
    client.execute(env=env)
    wall = time.perf_counter() - t
    hidden = {k: tuple(v) for k, v in C.hidden_report(nb).get("hidden", {}).items()}
    tests, errors, stderr = {}, [], []
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id", f"cell {i}")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(f"{gid}: {out.get('ename')}: {str(out.get('evalue'))[:200]}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                stderr.append(f"{gid}: {out.get('text', '')[:200].strip()}")
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            tests[gid] = C.cell_seconds(cell)
    return {"wall": wall, "tests": tests, "hidden": hidden, "n_hidden": n_hidden, "errors": errors, "stderr": stderr}


# ---------------------------------------------------------------- main

def compare_scheduler(work: Path, submitted: Path, assignments: list[str], scheduler: str, jobs: int,
                      isolate: bool | None) -> float:
    """``grade --scheduler`` (autograder/grading/cluster.py) against the local pool (``--jobs``) on the same class,
    one after the other in this run, each in a fresh course copy; the Dask side includes starting its cluster (a
    LocalCluster for local:N), as the command pays it. Prints both and the RATIO line; returns the ratio."""
    from autograder.grading import classrun, cluster, submission

    quiet = lambda m: print(f"  {m}", flush=True)
    print(f"[local] classrun.grade(jobs={jobs}) ... ({load()})", flush=True)
    local_s, local_cpu, local_course, local = run_cli(work, submitted, assignments, jobs, isolate)
    print(f"      {local_s:.1f} s (CPU {local_cpu:.1f} s)", flush=True)
    print(f"[dask] cluster.grade(scheduler={scheduler}) ... ({load()})", flush=True)
    course = classrun.prepare(work / "dask", submitted=submitted)
    import resource

    own = lambda: sum(getattr(resource.getrusage(resource.RUSAGE_SELF), f) for f in ("ru_utime", "ru_stime"))
    t, c, c_own = time.perf_counter(), child_cpu(), own()
    client, local_cluster = cluster.connect(scheduler, log=quiet)
    started = time.perf_counter() - t
    try:
        # the LocalCluster's workers are this process's children only once they end: count their CPU from /proc
        pids = list(client.run(os.getpid).values())
        outcomes = cluster.grade(course, assignments, scheduler, limits=submission.Limits(isolate=isolate),
                                 log=quiet, progress=False, client=client)
        dask_s = time.perf_counter() - t
        client_cpu = own() - c_own
        worker_cpu = sum(_tree_cpu(p) for p in pids)
    finally:
        client.close()
        if local_cluster is not None:
            local_cluster.close()
    dask_cpu = child_cpu() - c
    print(f"      {dask_s:.1f} s, of which {started:.1f} s starting the cluster (CPU of this process and finished "
          f"children {dask_cpu:.1f} s; the Dask workers' own CPU up to the end {worker_cpu:.1f} s; this process "
          f"alone, the client with the one writer and, for local:N, the scheduler: {client_cpu:.1f} s)", flush=True)
    same = {(o.assignment, o.student): o.score for o in outcomes} == \
        {(o.assignment, o.student): o.score for o in local}
    print(f"same scores both ways: {'yes' if same else 'NO'}; graded on Dask "
          f"{sum(o.status == 'graded' for o in outcomes)}/{len(outcomes)}")
    for a in assignments:
        mine = [o.seconds for o in outcomes if o.assignment == a and o.status == "graded"]
        theirs = [o.seconds for o in local if o.assignment == a and o.status == "graded"]
        if mine and theirs:
            print(f"  {a}: {sum(mine) / len(mine):.1f} s wall per graded submission on Dask, "
                  f"{sum(theirs) / len(theirs):.1f} s on the local pool (autograde + cap, feedback not included)")
    ratio = dask_s / local_s
    print(f"CPU dask/local: {dask_cpu / local_cpu:.2f} (all processes: Dask {dask_cpu:.1f} s / local {local_cpu:.1f} s; "
          f"per submission {dask_cpu / len(outcomes):.2f} s / {local_cpu / len(local):.2f} s)")
    print(f"RATIO dask/local [same class, --jobs {jobs}]: {ratio:.2f} (wall, Dask {dask_s:.1f} s / local "
          f"{local_s:.1f} s; target at most 1.10: {'met' if ratio <= 1.10 else 'NOT met'})")
    return ratio


def per_assignment(work: Path, n: int, assignments: list[str], jobs: int, isolate: bool | None) -> None:
    """One CLI run per assignment, alone: ``CPU per submission [A]: X s`` (all the CLI's CPU / n, as above)."""
    cpu_per = {}
    for a in assignments:
        sub = work / f"submitted-{a}"
        make_class(sub, n, [a])
        print(f"[{a}] classrun.grade(jobs={jobs}), {n} submissions ... ({load()})", flush=True)
        wall, cpu, _, outcomes = run_cli(work / a, sub, [a], jobs, isolate)
        cpu_per[a] = cpu / n
        scores = sorted({o.score for o in outcomes})
        print(f"CPU per submission [{a}]: {cpu / n:.2f} s (wall {wall:.1f} s, CPU {cpu:.1f} s; scores {scores})",
              flush=True)
    mean = sum(cpu_per.values()) / len(cpu_per)
    print(f"CPU per submission [mean over {len(cpu_per)} assignment(s), each run alone]: {mean:.2f} s ({load()})")


def _tree_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its live descendants (Linux /proc), 0 when gone."""
    import psutil

    total = 0.0
    try:
        proc = psutil.Process(pid)
        for p in [proc, *proc.children(recursive=True)]:
            try:
                ct = p.cpu_times()
                total += ct.user + ct.system + ct.children_user + ct.children_system
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--submissions", type=int, default=None, help="class size (default 40; --quick: 6)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 6 submissions, one floor repetition")
    ap.add_argument("--jobs", type=int, default=None, help="CLI parallel jobs (default: os.cpu_count())")
    ap.add_argument("--assignments", nargs="*", default=None, help="default: every assignment with a release and a "
                                                                   "demo class")
    ap.add_argument("--timeout", type=float, default=1800, help="limit for the sequential autograde process, s")
    ap.add_argument("--no-sandbox", action="store_true", help="CLI without sandboxed kernels (Limits(isolate=False));"
                                                               " default: sandboxed whenever the machine allows")
    ap.add_argument("--keep", type=Path, default=None, help="work in this directory and keep it (default: a "
                                                            "temporary directory, removed at the end)")
    ap.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="instead of the phases below: the same class on the local pool (--jobs) and on Dask "
                         "(e.g. local:2), and the RATIO dask/local line (the `cluster` extra)")
    ap.add_argument("--per-assignment", action="store_true",
                    help="instead of the phases below: one CLI run per assignment (default 8 submissions each, the "
                         "same mix) and its CPU per submission: what sizing a cluster for all seven notebooks needs")
    args = ap.parse_args(argv)
    n = args.submissions or (6 if args.quick else 8 if args.per_assignment else 40)
    jobs = args.jobs or os.cpu_count() or 1
    reps = 1 if args.quick else 3

    from autograder.report import page

    print("# benchmarks/grading.py: class grading throughput, CLI (parallel) vs plain sequential nbgrader autograde")
    print(f"machine: {C.cpu_model()}, {os.cpu_count()} logical CPUs; python {sys.version.split()[0]}")
    print(f"{load()} at start (the machine may be shared with other jobs: every figure below is noisy)")
    assignments = args.assignments or assignments_available(C.REPO)
    if not assignments:
        print("no assignment has both a release/ notebook and a demo class: run `python -m autograder build` first.")
        print("RATIO throughput CLI/sequential [nothing to grade]: n/a")
        return 1

    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="grading-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        submitted = work / "submitted"
        if submitted.exists():
            shutil.rmtree(submitted)
        who = make_class(submitted, n, assignments)
        mix = ", ".join(f"{sum(1 for d in who.values() if d == s)} {what} ({s})" for s, what in KINDS)
        print(f"class: {n} submissions x {len(assignments)} assignment(s) [{', '.join(assignments)}]: {mix}")
        print(f"work directory: {work}{'' if args.keep else ' (removed at the end)'}\n")
        if args.scheduler:
            compare_scheduler(work, submitted, assignments, args.scheduler, jobs, False if args.no_sandbox else None)
            return 0
        if args.per_assignment:
            per_assignment(work, n, assignments, jobs, False if args.no_sandbox else None)
            return 0

        print(f"[1/4] CLI: autograder.grading.classrun.grade(jobs={jobs}) ... ({load()})", flush=True)
        print(f"      {cli_extras(args.no_sandbox)}", flush=True)
        cli_s, cli_cpu, cli_course, outcomes = run_cli(work, submitted, assignments, jobs,
                                                       False if args.no_sandbox else None)
        print(f"      {cli_s:.1f} s (CPU {cli_cpu:.1f} s)", flush=True)
        print(f"[2/4] sequential: nbgrader generate_assignment + autograde (one process, all students) ... ({load()})",
              flush=True)
        seq, seq_cpu, seq_course = run_sequential(work, submitted, assignments, args.timeout)
        print("      " + ", ".join(f"{k} {v:.1f} s (CPU {seq_cpu[k]:.1f} s)" for k, v in seq.items()), flush=True)

        print(f"[3/4] floors ({reps} repetition(s), min) ... ({load()})", flush=True)
        floor_kernel = trivial_nbclient(reps)
        floor_one, floor_one_cpu, floor_many, floor_many_cpu, floor_w, floor_w_cpu = trivial_nbgrader(work, reps,
                                                                                 students=3 if args.quick else 6)
        floor_sub, floor_kinds = _floor.class_floor(submitted, who, assignments, reps)
        fb_cpu = _floor.feedback_cpu(cli_course, sorted((o.assignment, o.student) for o in outcomes
                                                        if o.status == "graded"))
        print(f"[4/4] hidden tests (source notebooks under NBGRADER_EXECUTION=autograde) ... ({load()})", flush=True)
        hidden = {a: hidden_times(a) for a in assignments}
        print(f"done ({load()})\n")

        # Sanity: both ways give every submission the same score.
        cli_scores = {(o.assignment, o.student): o.score for o in outcomes if o.status == "graded"}
        seq_scores = gradebook_scores(seq_course, assignments)
        not_graded = [o for o in outcomes if o.status != "graded"]
        same = cli_scores == {k: v for k, v in seq_scores.items() if k in cli_scores} and len(seq_scores) == len(
            cli_scores)
        by_kind = {}
        for o in outcomes:
            by_kind.setdefault((o.assignment, who[o.student]), set()).add(o.score)
        print("scores (CLI) by kind: " + "; ".join(f"{a} {d}: {sorted(v)}" for (a, d), v in sorted(by_kind.items())))
        print(f"CLI graded {len(cli_scores)}/{len(outcomes)}"
              + (f" (not graded: {', '.join(f'{o.student}: {o.reason}' for o in not_graded)})" if not_graded else "")
              + f"; sequential recorded {len(seq_scores)}; same scores both ways: {'yes' if same else 'NO'}")
        for key in sorted(set(cli_scores) | set(seq_scores)):
            if cli_scores.get(key) != seq_scores.get(key):
                print(f"  score differs: {key[0]} {key[1]} ({who.get(key[1], '?')}): CLI {cli_scores.get(key)}, "
                      f"sequential {seq_scores.get(key)}")
        t = time.perf_counter()
        html = page.write_report(cli_course, outcomes)
        print(f"class report: {html} ({time.perf_counter() - t:.1f} s to draw)"
              + ("" if args.keep else " (removed with the work directory)"))

        subs = n * len(assignments)
        seq_grade = seq["generate_assignment"] + seq["autograde"]
        seq_all = sum(seq.values())
        seq_grade_cpu = seq_cpu["generate_assignment"] + seq_cpu["autograde"]
        seq_all_cpu = sum(seq_cpu.values())
        print()
        print(C.table(
            ["way", "what the time covers", "wall", "per submission", "submissions/min", "CPU",
             "CPU per submission"],
            [[f"CLI, jobs={jobs}", "generate_assignment, parallel autograde, collect, feedback, CSV", f"{cli_s:.1f} s",
              f"{cli_s / subs:.2f} s", f"{60 * subs / cli_s:.1f}", f"{cli_cpu:.1f} s", f"{cli_cpu / subs:.2f} s"],
             ["nbgrader, sequential", "generate_assignment, autograde", f"{seq_grade:.1f} s",
              f"{seq_grade / subs:.2f} s", f"{60 * subs / seq_grade:.1f}", f"{seq_grade_cpu:.1f} s",
              f"{seq_grade_cpu / subs:.2f} s"],
             ["nbgrader, sequential", "... + generate_feedback, export", f"{seq_all:.1f} s", f"{seq_all / subs:.2f} s",
              f"{60 * subs / seq_all:.1f}", f"{seq_all_cpu:.1f} s", f"{seq_all_cpu / subs:.2f} s"]]))
        print("(CPU: user + system seconds of this process and of the nbgrader processes, judges and kernels it "
              "started; it depends much less on the machine's load than wall time does)")
        print()
        print(C.table(
            ["floor (per notebook)", "wall", "CPU"],
            [["kernel start + trivial one-cell notebook (nbclient)", f"{floor_kernel:.2f} s", "-"],
             ["nbgrader autograde, trivial notebook, one student, fresh nbgrader process",
              f"{floor_one:.2f} s", f"{floor_one_cpu:.2f} s"],
             ["CLI worker (pool.Worker), trivial notebook, per student (each CLI submission pays this, plus its "
              "judge and sandbox)", f"{floor_w:.2f} s", f"{floor_w_cpu:.2f} s"],
             ["nbgrader autograde, trivial notebook, per student in one process (sequential)", f"{floor_many:.2f} s",
              f"{floor_many_cpu:.2f} s"]]))
        print()
        rows = []
        for a, h in hidden.items():
            slow = max(h["hidden"].items(), key=lambda kv: kv[1][0], default=("-", (0.0, 0.0)))
            rows.append([a, f"{h['wall']:.1f} s", f"{len(h['tests'])}", f"{sum(h['tests'].values()):.2f} s",
                         f"{len(h['hidden'])}/{h['n_hidden']}", f"{sum(w for w, _ in h['hidden'].values()):.2f} s",
                         f"{sum(c for _, c in h['hidden'].values()):.2f} s", f"{slow[0]} {slow[1][0]:.2f} s"])
        print(C.table(["notebook", "autograde run (wall)", "test cells", "test cells' time", "hidden blocks",
                       "hidden tests (wall)", "hidden tests (CPU)", "slowest hidden block"], rows))
        print("(autograde run wall includes the kernel's start; test cells' time is from the cells' execution "
              "timestamps; hidden tests are the BEGIN/END HIDDEN TESTS blocks alone, CPU = the kernel's process time)")
        for a, h in hidden.items():
            for e in h["errors"]:
                print(f"  ERROR in {a} (solution under autograde): {e}")
            for e in h["stderr"]:
                print(f"  stderr in {a} (solution under autograde): {e}")
        print()

        head = seq_grade / cli_s
        like = seq_all / cli_s
        verdict = lambda r: "met" if r >= TARGET_RATIO else "NOT met"  # noqa: E731
        print(f"RATIO throughput CLI/sequential [{subs} submissions, jobs={jobs}, {os.cpu_count()} CPUs; sequential = "
              f"generate_assignment + autograde, CLI = everything]: {head:.2f} (target >= {TARGET_RATIO}: "
              f"{verdict(head)}; {seq_grade:.1f} s / {cli_s:.1f} s)")
        print(f"RATIO throughput CLI/sequential [like for like: both with feedback and CSV]: {like:.2f} "
              f"(target >= {TARGET_RATIO}: {verdict(like)}; {seq_all:.1f} s / {cli_s:.1f} s)")
        ncpu = os.cpu_count() or 1
        est = min(jobs, ncpu) * seq_grade_cpu / cli_cpu if cli_cpu else float("nan")
        print(f"RATIO throughput CLI/sequential [estimate for an idle {ncpu}-CPU machine from CPU time: "
              f"{min(jobs, ncpu)} x sequential CPU / CLI CPU, assumes both CPU-bound]: {est:.2f} "
              f"(target >= {TARGET_RATIO}: {verdict(est)}; {seq_grade_cpu:.1f} s vs {cli_cpu:.1f} s of CPU)")
        print(f"RATIO floor CLI-worker/kernel [trivial notebook, per student]: {floor_w / floor_kernel:.2f} "
              f"({floor_w:.2f} s per CLI submission at least, against {floor_kernel:.2f} s for a kernel start + "
              f"trivial notebook; sequential nbgrader: {floor_many:.2f} s per student; a fresh nbgrader process per "
              f"student: {floor_one:.2f} s)")
        for a, h in hidden.items():
            hw = sum(w for w, _ in h["hidden"].values())
            hc = sum(c for _, c in h["hidden"].values())
            tc = sum(h["tests"].values())
            missing = h["n_hidden"] - len(h["hidden"])
            print(f"RATIO hidden-test time/budget [{a}, NBGRADER_EXECUTION=autograde]: {hw / HIDDEN_BUDGET_S:.2f} "
                  f"({hw:.2f} s wall, {hc:.2f} s CPU, of {HIDDEN_BUDGET_S:.0f} s: "
                  f"{'met' if hw <= HIDDEN_BUDGET_S else 'NOT met'}; whole test cells {tc:.2f} s"
                  + (f"; {missing} hidden block(s) did not finish" if missing else "") + ")")
        per_sub = cli_cpu / subs
        print(f"CPU per submission: {per_sub:.2f} s (floor {floor_sub:.2f} s, ratio {per_sub / floor_sub:.2f}) "
              f"[CLI, jobs={jobs}, all its CPU / {subs} submissions; target <= {TARGET_CPU_PER_SUB} s: "
              f"{'met' if per_sub <= TARGET_CPU_PER_SUB else 'NOT met'}; ratio target <= {TARGET_FLOOR_RATIO}: "
              f"{'met' if per_sub / floor_sub <= TARGET_FLOOR_RATIO else 'NOT met'}; sequential nbgrader with feedback "
              f"and CSV: {seq_all_cpu / subs:.2f} s; floor by kind: "
              + ", ".join(f"{d} {v:.2f} s" for (_, d), v in sorted(floor_kinds.items())) + "]")
        print(f"feedback CPU per student: {fb_cpu:.3f} s [nbgrader generate_feedback, one student per call on one CLI "
              f"worker; target <= {TARGET_FEEDBACK_CPU} s: {'met' if fb_cpu <= TARGET_FEEDBACK_CPU else 'NOT met'}; "
              f"sequential nbgrader generate_feedback: {seq_cpu['generate_feedback'] / subs:.3f} s per student, "
              f"its start included]")
        print(f"{load()} at the end")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
