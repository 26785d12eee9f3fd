"""Every grade right under faults (issue 16), with real nbgrader: two gradings at once, a second grading of the same
course, Ctrl-C and kill -9 halfway then the same command again, a kernel killed from outside, a grader that cannot be
trusted, and a machine kept busy by CPU-bound processes.

The expected grades are the demo class's, stated in the README and fixed by each checks module's DEMO_BUG and
BROKEN_PART: they are not computed by the grader under test.
"""
import copy
import csv
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.authoring import build
from autograder.cli import main as cli_main
from autograder.grading import classrun, nbg
from autograder.grading.procs import descendants
from autograder.outcome import GRADE_AGAIN
from busy import keep_busy
from conftest import ROOT

pytestmark = pytest.mark.slow

A1, A2 = "01_chain_rule", "02_backprop_depth"
EXPECTED = {(A1, "ada"): 17.0, (A1, "ben"): 12.0, (A1, "cy"): 0.0, (A1, "dee"): 14.0,
            (A2, "ada"): 16.0, (A2, "ben"): 9.0, (A2, "cy"): 0.0, (A2, "dee"): 13.0}
OURS = ("autograder.grading.worker", "autograder.grading.judge", "autograder.grading.sandbox",
        "autograder.grading.zygote", "ipykernel")


def _is_kernel(pid: int, cmd: str) -> bool:
    """A student kernel: started as ipykernel, or forked by a worker's fork server (autograder/grading/zygote.py),
    whose command line a forked kernel keeps."""
    if "ipykernel" in cmd:
        return True
    if "autograder.grading.zygote" not in cmd:
        return False
    try:
        ppid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        return b"autograder.grading.zygote" in open(f"/proc/{ppid}/cmdline", "rb").read()
    except (OSError, ValueError):
        return False


def _cli(course: Path, *assignments: str, submitted: Path = build.DEMO_DIR) -> subprocess.Popen:
    out = open(course.parent / f"{course.name}.out", "w")
    # Ctrl-C as in a terminal, even when this run inherited SIGINT ignored (a job started in the background by a
    # shell without job control): Python only turns SIGINT into KeyboardInterrupt when it starts with the default
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade", "--submitted", str(submitted),
                             "--course", str(course), "--jobs", "2", *assignments],
                            cwd=ROOT, env=nbg.env(), stdout=out, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _grades(course: Path) -> dict:
    rows = list(csv.DictReader((course / "grades.csv").open()))
    keys = [(r["assignment"], r["student_id"]) for r in rows]
    assert len(keys) == len(set(keys)), f"a student is doubled in grades.csv: {keys}"
    # graded, or graded so far with a written answer waiting for a person (the demo class's ada, ben and dee)
    assert all(r["status"] == "graded" or r["status"].startswith("incomplete: ") for r in rows), \
        [r["status"] for r in rows]
    return {k: float(r["score"]) for k, r in zip(keys, rows)}


def _subreaper(on: bool) -> None:
    """Orphans of the runs this test process starts (a killed CLI's workers, judges and kernels) are re-parented to it
    instead of to init (Linux's PR_SET_CHILD_SUBREAPER), so they stay among its descendants. The scan below then sees
    this test's processes and nobody else's: it can run beside other gradings (pytest-xdist, an instructor's run)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, int(on), 0, 0, 0) != 0:   # PR_SET_CHILD_SUBREAPER
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


@pytest.fixture(scope="module", autouse=True)
def _subreaper_for_these_tests():
    """Only while this file's tests run: pytest-xdist imports every test file in every worker, so a call at import
    made all of them subreapers for the whole run, and a process orphaned anywhere else (a hub's proxy that outlived
    its JupyterHub) stayed a zombie under them, which JupyterHub's own check took for a live proxy."""
    _subreaper(True)
    yield
    _subreaper(False)


def _ours_running() -> set[tuple[int, str]]:
    """Our grading processes below this test process (workers, judges, sandbox launchers, kernels), by pid; a process
    orphaned by a killed CLI counts too (``_subreaper``). Zombies do not count."""
    found = set()
    for pid in descendants(os.getpid()):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(o in cmd for o in OURS):
            found.add((pid, cmd[:160]))
    return found


def _wait_gone(before: set, seconds: float = 30) -> set:
    deadline = time.monotonic() + seconds
    while True:
        left = _ours_running() - before
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def _wait_for_kernels(proc: subprocess.Popen, before: set, seconds: float = 120) -> None:
    """Until the run is halfway into a submission: a kernel of its own is running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if any(_is_kernel(pid, cmd) for pid, cmd in _ours_running() - before):
            time.sleep(2)   # well inside the notebook
            return
        time.sleep(0.2)
    raise AssertionError("the grading never started a kernel")


def test_two_gradings_at_once_give_the_grades_of_one_alone(tmp_path):
    first = _cli(tmp_path / "A", A1, A2)
    time.sleep(2)
    second = _cli(tmp_path / "B", A1, A2)
    assert first.wait(600) == 0 and second.wait(600) == 0, (tmp_path / "A.out").read_text()[-3000:]
    assert _grades(tmp_path / "A") == EXPECTED
    assert _grades(tmp_path / "B") == EXPECTED


def test_a_second_grading_of_the_same_course_waits_and_says_so(tmp_path):
    course = tmp_path / "C"
    with classrun.course_lock(course, log=lambda *a: None):
        proc = _cli(course, A1)
        deadline = time.monotonic() + 120   # the CLI's start (imports) is slow on a busy machine
        while "waiting for it to finish" not in (tmp_path / "C.out").read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, "the second grading did not wait for the first: " + \
                (tmp_path / "C.out").read_text()[-2000:]
            time.sleep(0.5)
        assert "waiting for it to finish" in (tmp_path / "C.out").read_text()
        time.sleep(2)
        assert proc.poll() is None, "the second grading did not go on waiting"
    assert proc.wait(600) == 0, (tmp_path / "C.out").read_text()[-3000:]
    assert _grades(course) == {k: v for k, v in EXPECTED.items() if k[0] == A1}


def test_the_scan_sees_what_a_dead_parent_left_behind():
    """What the interrupted-run test relies on: a process whose parent died (as a kernel's, after kill -9 of the CLI)
    is still found below this test process, and nobody else's process is."""
    before = _ours_running()
    subprocess.run([sys.executable, "-c", "import subprocess, sys; subprocess.Popen([sys.executable, '-c', "
                    "'import time; time.sleep(60)', 'ipykernel-orphan'], stdout=subprocess.DEVNULL, "
                    "stderr=subprocess.DEVNULL)"], check=True, timeout=60)   # its parent exits at once
    try:
        left = _wait_gone(before, 0)
        assert [cmd for _, cmd in left if "ipykernel-orphan" in cmd], f"the orphan was not found: {left}"
    finally:
        for pid, cmd in _ours_running() - before:
            if "ipykernel-orphan" in cmd:
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_interrupted_run_leaves_nothing_and_the_rerun_finishes_the_class(tmp_path, sig):
    before = _ours_running()
    course = tmp_path / "D"
    submitted = tmp_path / "submitted"   # the demo class of 01, each notebook 4 s longer: Ctrl-C finds it mid-class
    for student in ("ada", "ben", "cy", "dee"):
        (submitted / student / A1).mkdir(parents=True)
        nb = submitted / student / A1 / f"{A1}.ipynb"
        nb.write_bytes((build.DEMO_DIR / student / A1 / f"{A1}.ipynb").read_bytes())
        keep_busy(nb, 4)
    proc = _cli(course, A1, submitted=submitted)
    _wait_for_kernels(proc, before)
    t0 = time.monotonic()
    proc.send_signal(sig)
    proc.wait(60)
    if sig == signal.SIGINT:
        assert proc.returncode != 0
        assert time.monotonic() - t0 < 30, "Ctrl-C waited for the submissions in flight"
        out = (tmp_path / "D.out").read_text()
        assert "grading it a second time" not in out, f"Ctrl-C started the submissions in flight again:\n{out[-2000:]}"
    left = _wait_gone(before, 30)
    assert not left, f"still running after {sig.name}: {left}"
    again = _cli(course, A1, submitted=submitted)
    assert again.wait(600) == 0, (tmp_path / "D.out").read_text()[-3000:]
    assert _grades(course) == {k: v for k, v in EXPECTED.items() if k[0] == A1}


def test_a_kernel_killed_from_outside_is_graded_again(tmp_path):
    sub = tmp_path / "submitted"
    (sub / "ada" / A1).mkdir(parents=True)
    (sub / "ada" / A1 / f"{A1}.ipynb").write_bytes((build.DEMO_DIR / "ada" / A1 / f"{A1}.ipynb").read_bytes())
    keep_busy(sub / "ada" / A1 / f"{A1}.ipynb", 3)   # a killer that waits a second still finds the kernel
    course = classrun.prepare(tmp_path / "course", ROOT, submitted=sub)
    killed = []

    def killer():   # the first kernel that has run for a second dies, as under the machine's OOM killer
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            for pid in descendants(os.getpid()):
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if _is_kernel(pid, cmd):
                    time.sleep(1)
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
            time.sleep(0.1)
    t = threading.Thread(target=killer)
    t.start()
    (o,) = classrun.grade(course, [A1], jobs=1, log=lambda *a: None, progress=False)
    t.join()
    assert killed, "no kernel was found to kill"
    assert o.status == "graded" and o.score == 17.0 and o.attempts == 2, (o.status, o.score, o.reason)
    assert "second try" in o.reason


def test_a_grade_that_cannot_be_trusted_is_never_a_zero(tmp_path, monkeypatch, capsys):
    """The judge never answers (a grader fault, not the student's): both tries fail, and the student is "grade
    again": no score in the table or grades.csv, a summary line, and the command exits non-zero."""
    from autograder.grading import judge
    monkeypatch.setattr(judge.Judge, "ledger", lambda self, timeout=60: None)
    sub = tmp_path / "submitted"
    (sub / "ada" / A1).mkdir(parents=True)
    (sub / "ada" / A1 / f"{A1}.ipynb").write_bytes((build.DEMO_DIR / "ada" / A1 / f"{A1}.ipynb").read_bytes())
    rc = cli_main(["grade", "--submitted", str(sub), "--course", str(tmp_path / "course"), "--jobs", "1", A1])
    out = capsys.readouterr().out
    assert rc == 3, out[-2000:]
    assert "---" in out and " 0.0 / 19.0" not in out, out
    assert "1 NOT GRADED (could not be trusted): grade them again" in out, out
    (row,) = csv.DictReader((tmp_path / "course" / "grades.csv").open())
    assert row["status"].startswith(GRADE_AGAIN) and row["score"] == "", row
    assert "1 could not be trusted" in (tmp_path / "course" / "report.html").read_text()


def _numerical(nb):
    """ada's 02 with a backprop that differentiates her own cost numerically (2P forward passes)."""
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "backprop")
    cell.source += '''

def backprop(Ws, bs, X, Y, activation="sigmoid"):
    Ws, bs, X = [np.array(W, dtype=float) for W in Ws], [np.array(b, dtype=float) for b in bs], np.array(X, float)
    h = 1e-6
    def grad(P):
        G = np.zeros_like(P, dtype=float)
        for i in np.ndindex(P.shape):
            old = P[i]
            P[i] = old + h
            up = cost(Ws, bs, X, Y, activation)
            P[i] = old - h
            down = cost(Ws, bs, X, Y, activation)
            P[i] = old
            G[i] = (up - down) / (2 * h)
        return G
    return [grad(W) for W in Ws], [grad(b) for b in bs]
'''
    return nb


def test_a_busy_machine_fails_no_correct_backprop_and_still_catches_a_numerical_one(tmp_path):
    ada = nbformat.read(build.DEMO_DIR / "ada" / A2 / f"{A2}.ipynb", as_version=4)
    sub = tmp_path / "submitted"
    for name, nb in [("correct", ada), ("numerical", _numerical(ada))]:
        (sub / name / A2).mkdir(parents=True)
        nbformat.write(nb, sub / name / A2 / f"{A2}.ipynb")
    course = classrun.prepare(tmp_path / "course", ROOT, submitted=sub)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    try:
        got = {o.student: o for o in classrun.grade(course, [A2], jobs=2, log=lambda *a: None, progress=False)}
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert got["correct"].score == 16.0, got["correct"].failures
    bad = got["numerical"]
    assert "test_backprop_weights" in bad.failures and "numerical gradient" in bad.failures["test_backprop_weights"], \
        bad.failures
