"""Grading on a Dask cluster with the gradebook in PostgreSQL (``grade --scheduler``, ``--db``), on real engines:
a LocalCluster of 2 worker processes (each under a nanny) and a throwaway PostgreSQL (tests/postgres.py).

- the demo class of 01 and 02 graded on Dask into PostgreSQL gets the README's grades, the same as the local pool's
  sqlite run in this session, in the gradebook, grades.csv and the outcomes;
- a Dask worker killed (kill -9) in the middle of a submission: the submission is graded again on another worker, the
  class ends with the same grades, nothing doubled in the gradebook or grades.csv;
- a submission whose worker is killed every time it runs it is given up after 2 deaths: "grade again" with the reason,
  never a 0, and the rest of the class is graded.

The processes killed here are only this test's own Dask workers (found from the scheduler's own list of them).
"""
import csv
import os
import shutil
import signal
import threading
import time

import pytest

from autograder.authoring import build
from autograder.grading import classrun, nbg
from autograder.outcome import GRADE_AGAIN
from busy import keep_busy
from conftest import ROOT

import postgres

pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed", reason="Dask is the `cluster` extra: pip install -e '.[cluster]'")
psutil = pytest.importorskip("psutil")

from autograder.grading import cluster  # noqa: E402  (after the skip: it needs Dask)

ASSIGNMENTS = ["01_chain_rule", "02_backprop_depth"]
# The demo grades fixed in the README (not computed by the code under test).
README = {("01_chain_rule", "ada"): 17, ("01_chain_rule", "ben"): 12, ("01_chain_rule", "cy"): 0,
          ("01_chain_rule", "dee"): 14, ("02_backprop_depth", "ada"): 16, ("02_backprop_depth", "ben"): 9,
          ("02_backprop_depth", "cy"): 0, ("02_backprop_depth", "dee"): 13}
QUIET = dict(log=lambda *a: None, progress=False)


@pytest.fixture(scope="module")
def pg():
    server, why = postgres.start()
    if server is None:
        pytest.skip(f"no PostgreSQL here: {why}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client():
    c, local = cluster.connect("local:2", log=lambda *a: None)
    yield c
    c.close()
    local.close()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    course = classrun.prepare(tmp_path_factory.mktemp("local") / "course", ROOT, submitted=build.DEMO_DIR)
    outcomes = classrun.grade(course, ASSIGNMENTS, jobs=2, **QUIET)
    return course, {(o.assignment, o.student): o for o in outcomes}


def _csv(course):
    with (course / "grades.csv").open(newline="") as f:
        return [{k: r[k] for k in ("assignment", "student_id", "raw_score", "score", "max_score", "status")}
                for r in csv.DictReader(f)]


def _submission_counts(url: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        return {(a.name, s.student.id): sum(1 for t in a.submissions if t.student.id == s.student.id)
                for a in gb.assignments for s in a.submissions}


def _class(tmp_path, students: dict[str, str], assignments) -> "Path":
    """A submitted/ folder: new name -> demo student whose notebooks it hands in."""
    sub = tmp_path / "submitted"
    for name, demo in students.items():
        for a in assignments:
            shutil.copytree(build.DEMO_DIR / demo / a, sub / name / a)
    return sub


def test_dask_and_postgres_give_the_local_grades(tmp_path, pg, client, local_run):
    local_course, local = local_run
    assert {k: o.score for k, o in local.items()} == README
    url = postgres.create_database(pg, "demo_class")
    course = classrun.prepare(tmp_path / "course", ROOT, submitted=build.DEMO_DIR, db=url)
    assert nbg.db_url(course) == url and not (course / nbg.DB_FILE).exists()
    outcomes = {(o.assignment, o.student): o for o in cluster.grade(course, ASSIGNMENTS, "unused", client=client,
                                                                    **QUIET)}
    assert {k: o.score for k, o in outcomes.items()} == README
    for k, o in outcomes.items():
        assert (o.status, o.cells, o.pending, o.max_score) == (local[k].status, local[k].cells, local[k].pending,
                                                               local[k].max_score), k
    assert not (course / nbg.DB_FILE).exists(), "the gradebook went to sqlite, not PostgreSQL"
    from nbgrader.api import Gradebook
    with Gradebook(url) as gb:
        assert {(a, s): gb.find_submission(a, s).score for a, s in README} == README
    assert _submission_counts(url) == {k: 1 for k in README}
    assert _csv(course) == _csv(local_course)
    for a, s in README:
        assert (course / "feedback" / s / a / f"{a}.html").exists()
        assert (course / "autograded" / s / a / f"{a}.ipynb").exists()
    assert (course / "report.html").exists()


def _kill_when_running(client, done: threading.Event, wanted=lambda key: True, times: int = 1) -> list:
    """kill -9 the Dask worker process (of this test's cluster) that runs a wanted task, once that task's kernel is
    up (in the middle of the submission), ``times`` times at most; returns [(key, pid)] of what was killed."""
    killed = []
    while not done.is_set() and len(killed) < times:
        busy = {addr: keys for addr, keys in client.processing().items() if any(wanted(str(k)) for k in keys)}
        pids = client.run(os.getpid, workers=list(busy), on_error="ignore") if busy else {}
        for addr, keys in busy.items():
            if not all(wanted(str(k)) for k in keys):
                continue   # that worker also holds a task not to be killed: wait until the wanted one is alone
            for key in keys:
                if not isinstance(pids.get(addr), int):
                    continue
                pid = pids[addr]
                if (str(key), pid) in killed:
                    continue
                try:
                    kids = psutil.Process(pid).children(recursive=True)
                    # a kernel: ipykernel's own command line, or (forked by the worker's fork server, which keeps
                    # the zygote's command line) the sandbox launcher that jupyter_client started for it
                    running = any(w in " ".join(p.cmdline()) for p in kids
                                  for w in ("ipykernel", "autograder.grading.sandbox"))
                except psutil.Error:
                    continue
                if running:
                    os.kill(pid, signal.SIGKILL)
                    killed.append((str(key), pid))
                    break
            else:
                continue
            break   # one kill at a time: the next one on what the scheduler says after it
        time.sleep(0.2)
    return killed


def _grade_in_thread(course, assignments, client):
    result, done = {}, threading.Event()

    def run():
        try:
            result["outcomes"] = cluster.grade(course, assignments, "unused", client=client, **QUIET)
        finally:
            done.set()
    t = threading.Thread(target=run)
    t.start()
    return t, done, result


def test_a_worker_killed_mid_submission_is_graded_again_elsewhere(tmp_path, client):
    submitted = _class(tmp_path, {s: s for s in ("ada", "ben", "cy", "dee")}, ["01_chain_rule"])
    keep_busy(submitted / "ben" / "01_chain_rule" / "01_chain_rule.ipynb", 5)
    course = classrun.prepare(tmp_path / "course", ROOT, submitted=submitted)
    t, done, result = _grade_in_thread(course, ["01_chain_rule"], client)
    killed = _kill_when_running(client, done)
    t.join(timeout=1800)
    assert len(killed) == 1, "no submission was running a kernel to kill: the test proved nothing"
    assert not psutil.pid_exists(killed[0][1]) or psutil.Process(killed[0][1]).status() == psutil.STATUS_ZOMBIE
    outcomes = {(o.assignment, o.student): o for o in result["outcomes"]}
    assert {k: o.score for k, o in outcomes.items()} == {k: v for k, v in README.items() if k[0] == "01_chain_rule"}
    assert all(o.status == "graded" for o in outcomes.values())
    assert _submission_counts(nbg.db_url(course)) == {k: 1 for k in outcomes}
    rows = _csv(course)
    assert sorted((r["assignment"], r["student_id"]) for r in rows) == sorted(outcomes)
    assert {(r["assignment"], r["student_id"]): float(r["score"]) for r in rows} == \
        {k: float(v) for k, v in README.items() if k[0] == "01_chain_rule"}


def test_a_submission_that_kills_its_worker_twice_is_not_graded_with_the_reason(tmp_path, client):
    submitted = _class(tmp_path, {"ada": "ada", "zed": "ada"}, ["01_chain_rule"])
    keep_busy(submitted / "zed" / "01_chain_rule" / "01_chain_rule.ipynb", 20)   # each kill finds zed's kernel running
    course = classrun.prepare(tmp_path / "course", ROOT, submitted=submitted)
    t, done, result = _grade_in_thread(course, ["01_chain_rule"], client)
    killed = _kill_when_running(client, done, wanted=lambda key: "-zed-" in key, times=3)
    t.join(timeout=1800)
    assert len(killed) == cluster.ALLOWED_FAILURES + 1 == 2
    outcomes = {o.student: o for o in result["outcomes"]}
    assert outcomes["ada"].status == "graded" and outcomes["ada"].score == 17
    zed = outcomes["zed"]
    assert zed.status == GRADE_AGAIN and not zed.trusted
    assert zed.reason.startswith("not graded") and "died 2 times" in zed.reason, zed.reason
    rows = {r["student_id"]: r for r in _csv(course)}
    assert rows["zed"]["score"] == "" and rows["zed"]["status"].startswith("grade again: not graded")
    assert float(rows["ada"]["score"]) == 17


def test_exchange_round_trip_with_the_gradebook_in_postgres(tmp_path, pg):
    """release, fetch, submit, collect, autograde (the local pool: two nbgrader workers writing PostgreSQL at once),
    feedback and release-feedback, with ``--db`` kept in the course directory: the README's grades, the CSV and the
    report, and no sqlite gradebook anywhere."""
    from nbgrader.api import Gradebook

    from autograder.grading import exchange
    from autograder.grading.students import Student

    a = "01_chain_rule"
    url = postgres.create_database(pg, "exchange_course")
    course_dir = classrun.prepare(tmp_path / "course", ROOT, db=url)
    course = exchange.Course(course_dir, exchange=tmp_path / "exchange", check_owner=False)
    quiet = lambda *x: None
    exchange.release(course, [a], log=quiet)
    homes = tmp_path / "homes"
    students = {n: Student(n, homes / n, course.course_id, course.exchange_root).setup() for n in ("ada", "ben")}
    for name, s in students.items():
        s.fetch(a)
        shutil.copy2(build.DEMO_DIR / name / a / f"{a}.ipynb", s.notebook(a))
        s.submit(a)
    exchange.collect(course, [a], log=quiet)
    outcomes = {o.student: o for o in exchange.autograde(course, [a], jobs=2, log=quiet)}
    assert {s: o.score for s, o in outcomes.items()} == {"ada": README[(a, "ada")], "ben": README[(a, "ben")]}
    exchange.generate_feedback(course, [a], log=quiet)
    exchange.release_feedback(course, [a], log=quiet)
    for name, s in students.items():
        assert s.fetch_feedback(a), f"{name} got no feedback"
    with Gradebook(url, course.course_id) as gb:
        assert {s: gb.find_submission(a, s).score for s in students} == {"ada": 17, "ben": 12}
    assert _submission_counts(url) == {(a, "ada"): 1, (a, "ben"): 1}
    rows = {r["student_id"]: r for r in _csv(course_dir)}
    assert {s: float(r["score"]) for s, r in rows.items()} == {"ada": 17, "ben": 12}
    assert (course_dir / "report.html").exists()
    assert not list(tmp_path.rglob("gradebook.db")), "a sqlite gradebook was made beside PostgreSQL"


def test_benchmark_prints_the_dask_over_local_ratio(client):
    """benchmarks/grading.py --scheduler ADDRESS runs end to end on a tiny class and prints its RATIO line; the figure
    itself is never asserted (a test cannot know how busy the machine is). ADDRESS is this module's cluster's
    scheduler, as an instructor passes a real cluster's (``local:N`` is what ``client`` itself goes through; a second
    LocalCluster here cost about 15 s of CPU)."""
    import re
    import subprocess
    import sys

    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "grading.py"), "-n", "2", "--jobs", "2",
                           "--scheduler", client.scheduler.address, "--assignments", "01_chain_rule"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    m = re.search(r"^RATIO dask/local \[same class, --jobs 2\]: (\S+)", proc.stdout, re.M)
    assert m, proc.stdout
    float(m.group(1))
    assert "same scores both ways: yes" in proc.stdout
