"""Untrusted submissions, graded by real nbgrader next to a good one: each gets zero for what could not run and a
clear one-line reason, the good student's grade is untouched, and a rerun gives the same result."""
import copy

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.authoring import build
from autograder.grading import classrun, procs, submission
from autograder.report import table as table_mod
from conftest import ROOT

pytestmark = pytest.mark.slow

A = "01_chain_rule"
LIMITS = submission.Limits(notebook_timeout=30, cell_timeout=5, memory_mb=2048)   # 30 s: the good notebook needs about 2


def _inject(nb, code):
    """Put ``code`` at the top of the first solution cell of a correct submission."""
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "neuron")
    cell.source = code + "\n" + cell.source
    return nb


#: cells a careless student deletes: a test cell, and the written answer right under its read-only prompt (where
#: nbgrader 0.9.6's own put-back fails with a KeyError: autograder/grading/restore.py)
DELETED = ("test_sgd_step", "written_saturation")


def _delete(nb, grade_ids):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]
    return nb


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory):
    good = nbformat.read(build.DEMO_DIR / "ada" / A / f"{A}.ipynb", as_version=4)
    sub = tmp_path_factory.mktemp("bad") / "submitted"

    def put(student, nb=None, text=None, name=f"{A}.ipynb"):
        path = sub / student / A / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text) if text is not None else nbformat.write(nb, path)

    put("good", good)
    put("endless_loop", _inject(good, "while True:\n    pass"))
    put("stubborn_hang", _inject(good, "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                        "while True:\n    time.sleep(0.05)"))
    put("os_exit", _inject(good, "import os\nos._exit(3)"))
    put("memory_hog", _inject(good, "import numpy as np\n_hog = np.ones((1024, 1024, 512))  # 4 GiB"))
    put("output_flood", _inject(good, "import sys\nfor _ in range(50):\n    sys.stdout.write('x' * 2**20)  # 50 MiB"))
    put("invalid_json", text='{"cells": [ this is not json')
    put("deleted_cells", _delete(good, DELETED))
    put("renamed", good, name="my_copy_of_01.ipynb")
    (sub / "missing" / A).mkdir(parents=True)
    return sub


@pytest.fixture(scope="module")
def graded(class_dir, tmp_path_factory):
    course = classrun.prepare(tmp_path_factory.mktemp("course") / "c", ROOT, submitted=class_dir)
    first = {o.student: o for o in classrun.grade(course, [A], jobs=2, limits=LIMITS, progress=False)}
    second = {o.student: o for o in classrun.grade(course, [A], jobs=2, limits=LIMITS, progress=False)}
    return course, first, second


def test_good_student_is_unaffected(graded):
    _, first, _ = graded
    assert first["good"].status == "graded" and first["good"].score == 17 and first["good"].max_score == 19


@pytest.mark.parametrize("student, status, reason, max_points", [
    ("endless_loop", "graded", "per-cell time limit", 12),      # its solution cell is lost, the rest still runs
    ("stubborn_hang", "not graded", "hang", 0),                  # ignores the interrupt: the notebook limit ends it
    ("os_exit", "not graded", "kernel died", 0),
    ("memory_hog", "graded", "out of memory", 12),
    ("invalid_json", "not graded", "invalid notebook", 0),
    ("renamed", "not graded", "renamed", 0),
    ("missing", "not graded", "missing notebook", 0),
])
def test_bad_submission_gets_a_reason_and_no_unearned_points(graded, student, status, reason, max_points):
    _, first, _ = graded
    o = first[student]
    assert o.status == status, (o.status, o.reason)
    assert reason in o.reason, o.reason
    assert "\n" not in o.reason
    assert o.score <= max_points


def test_output_flood_is_graded_normally(graded):
    _, first, _ = graded
    assert first["output_flood"].status == "graded" and first["output_flood"].score == 17


def test_deleted_cells_are_put_back_where_they_were_and_graded(graded):
    """The deleted test cell runs again (her functions are right: full marks for it) and the deleted written answer
    is back for a person to grade; every nbgrader cell stands in the source notebook's order."""
    course, first, _ = graded
    o = first["deleted_cells"]
    assert o.status == "graded" and o.score == 17 and o.max_score == 19, (o.status, o.score, o.reason)
    ids = lambda nb: [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})]
    source = ids(nbformat.read(ROOT / "source" / A / f"{A}.ipynb", as_version=4))
    autograded = ids(nbformat.read(course / "autograded" / "deleted_cells" / A / f"{A}.ipynb", as_version=4))
    assert autograded == source


def test_table_has_one_line_per_student(graded):
    _, first, _ = graded
    lines = table_mod.table(sorted(first.values(), key=lambda o: o.student)).splitlines()[2:]
    assert len(lines) == len(first)
    assert all(o.student in line for o, line in zip(sorted(first.values(), key=lambda o: o.student), lines))


def test_rerun_gives_the_same_result(graded):
    _, first, second = graded
    assert {s: (o.status, o.score) for s, o in first.items()} == {s: (o.status, o.score) for s, o in second.items()}


def test_gradebook_keeps_every_student_and_the_good_grade(graded):
    course, _, _ = graded
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert {s.id for s in gb.students} >= {"good", "endless_loop", "os_exit", "invalid_json", "renamed", "missing"}
        assert gb.find_submission(A, "good").score == 17


def test_nothing_is_left_running(graded):
    """The stubborn hang's kernel ignores interrupts and outlives its notebook's time limit: killing its worker must
    take the kernel along. After the class, no grading worker or kernel of ours is still alive."""
    import os
    import time

    time.sleep(1)  # SIGKILLed processes need a moment to be reaped
    left = []
    for pid in procs.descendants(os.getpid()):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and ("ipykernel" in cmd or "autograder.grading.worker" in cmd or "autograder.grading.sandbox" in cmd
                                 or "autograder.grading.zygote" in cmd):
            left.append(cmd[:200])
    assert not left, f"still running after grading: {left}"
    course, _, _ = graded
    assert (course / "feedback" / "good" / A / f"{A}.html").exists(), "the good student's feedback is missing"
