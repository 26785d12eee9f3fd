"""The whole nbgrader round trip through the exchange, with real nbgrader and no browser.

The instructor works in a throwaway course copy; three students each have their own home, Jupyter config and data dirs,
and run nbgrader as separate processes:

- ada fetches 01, fills it in correctly and submits;
- ben submits twice: first with one part left blank, then with a typical bug; the later submission must be graded;
- lee submits correct work after the due date that the (copied) config sets, and loses the late penalty.

The instructor collects, autogrades, generates and releases feedback; each student fetches their own.

When the tests run as root, each student's processes run under their own numeric uid (setpriv), so the exchange's Unix
permissions are really exercised: a student cannot list the released feedback, the inbound submissions, or another
student's home. As one shared uid, only the secret-based lookup keeps students apart (any process of that uid could
read every file), so those permission tests are skipped.
"""
from __future__ import annotations

import csv
import datetime
import json
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder.grading import classrun, exchange, nbg
from autograder.grading.students import Student, can_switch_uid
from autograder.checks import nb01
from autograder.authoring.variants import fill
from conftest import ROOT
from points import written_points

pytestmark = pytest.mark.slow

A = "01_chain_rule"
UIDS = {"ada": 47101, "ben": 47102, "lee": 47103}
LEAKS = ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "from autograder", "check_"]


def _parallel(fn, items):
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(fn, items))


def _score(html: str) -> tuple[float, float]:
    """The total nbgrader prints at the top of the feedback: 'Score: 15.3 / 17.0)'."""
    m = re.search(r"Score: ([\d.]+) / ([\d.]+)\)", html)
    assert m, "no score in the feedback HTML"
    return float(m.group(1)), float(m.group(2))


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    multi_uid = can_switch_uid()
    base = tmp_path_factory.mktemp("exchange")
    course_dir = classrun.prepare(base / "course", ROOT)          # the instructor's course copy (config + source/)
    if multi_uid:
        # Students must reach the exchange and their homes: pytest's tmp dirs are 0700 to other uids.
        world = Path(tempfile.mkdtemp(prefix="bpfs-exchange-"))
        world.chmod(0o711)
    else:
        world = base
    course = exchange.Course(course_dir, exchange=world / "exchange", check_owner=False)
    homes = world / "homes"
    homes.mkdir()
    homes.chmod(0o711)
    t0 = time.perf_counter()
    try:
        # 1. The instructor releases 01.
        exchange.release(course, [A], log=lambda *a: None)
        students = {n: Student(n, homes / n, course.course_id, course.exchange_root,
                                        uid=UIDS[n] if multi_uid else None).setup() for n in UIDS}
        ada, ben, lee = students.values()

        # 2. Each student sees it in their assignment list and fetches it.
        listed = ada.list()
        _parallel(lambda s: s.fetch(A), [ada, ben, lee])
        src = nbformat.read(course_dir / "source" / A / f"{A}.ipynb", as_version=4)
        fetched = nbformat.read(ada.notebook(A), as_version=4)
        nbformat.write(fill(fetched, src), ada.notebook(A))
        nbformat.write(fill(fetched, src, blank_cells=nb01.BROKEN_PART["cells"]), ben.notebook(A))
        _parallel(lambda s: s.submit(A), [ada, ben])
        nbformat.write(fill(fetched, src, bug=nb01.DEMO_BUG), ben.notebook(A))
        ben.submit(A)

        # The due date falls between ben's second submission and lee's: set in the config, as an instructor would.
        time.sleep(1)
        due = datetime.datetime.now(datetime.timezone.utc)
        with (course_dir / "nbgrader_config.py").open("a") as fh:
            fh.write(f"\nc.CourseSchedule.due_dates = {{{A!r}: {due.strftime('%Y-%m-%d %H:%M:%S.%f UTC')!r}}}\n")
        time.sleep(1)
        nbformat.write(fill(fetched, src), lee.notebook(A))
        lee.submit(A)

        # 3. The instructor collects, autogrades, generates feedback and releases it.
        exchange.collect(course, [A], log=lambda *a: None)
        outcomes = {o.student: o for o in exchange.autograde(course, [A], log=lambda *a: None)}
        exchange.generate_feedback(course, [A], log=lambda *a: None)
        exchange.release_feedback(course, [A], log=lambda *a: None)

        # 4. Each student fetches their feedback.
        feedback = dict(zip(UIDS, _parallel(lambda s: s.fetch_feedback(A), [ada, ben, lee])))

        probes = {}
        if multi_uid:
            probes = {n: _probe(students[n], course, students) for n in ("ada", "ben")}
        yield dict(course=course, students=students, outcomes=outcomes, feedback=feedback, listed=listed,
                   multi_uid=multi_uid, probes=probes, due=due, seconds=time.perf_counter() - t0)
    finally:
        if multi_uid:
            shutil.rmtree(world, ignore_errors=True)


PROBE = r"""
import json, os, sys
out = {}
for label, path in json.loads(sys.argv[1]).items():
    try:
        os.listdir(path)
        out[label] = "listed"
    except PermissionError:
        out[label] = "denied"
    except FileNotFoundError:
        out[label] = "missing"
print(json.dumps(out))
"""


def _probe(me: Student, course: exchange.Course, students: dict) -> dict:
    """As ``me`` (own uid), try to list the places where other students' work or feedback lives."""
    ex = course.exchange_root / course.course_id
    others = [s for s in students.values() if s.name != me.name]
    paths = {"feedback": str(ex / "feedback"), "inbound": str(ex / "inbound"), "outbound": str(ex / "outbound")}
    for o in others:
        paths[f"home:{o.name}"] = str(o.home)
        paths[f"cache:{o.name}"] = str(o.data_dir / "nbgrader_cache")
    res = me.run([str(nbg.BIN / "python"), "-c", PROBE, json.dumps(paths)])
    return json.loads(res.output.strip().splitlines()[-1])


# -- 1/2: release, fetch, submit ------------------------------------------------------------------------------------

def test_students_see_the_release_and_fetch_it(trip):
    assert f"{trip['course'].course_id} {A}" in trip["listed"], trip["listed"]
    released = (ROOT / "release" / A / f"{A}.ipynb").read_text()
    for s in trip["students"].values():
        assert s.notebook(A).exists(), f"{s.name} did not fetch {A}"
        assert s.folder(A).parent.name == trip["course"].course_id, "path_includes_course: ~/<course_id>/<assignment>"
    # What reached students is the release, without solutions or hidden tests.
    out = nbformat.read(trip["course"].exchange_root / trip["course"].course_id / "outbound" / A / f"{A}.ipynb", 4)
    assert nbformat.writes(out) == nbformat.writes(nbformat.reads(released, 4))


def test_each_submission_is_in_the_exchange(trip):
    inbound = trip["course"].exchange_root / trip["course"].course_id / "inbound"
    names = sorted(p.name.split("+")[0] for p in inbound.iterdir())
    assert names == ["ada", "ben", "ben", "lee"], names


def test_later_submission_wins(trip):
    course = trip["course"]
    collected = nbformat.read(course.dir / "submitted" / "ben" / A / f"{A}.ipynb", as_version=4)
    (cell,) = [c for c in collected.cells if c.metadata.get("nbgrader", {}).get("grade_id") == nb01.DEMO_BUG["cell"]]
    assert nb01.DEMO_BUG["new"] in cell.source, "the collected notebook is not ben's second submission"
    o = trip["outcomes"]["ben"]
    assert sorted(o.failures) == sorted(nb01.DEMO_BUG["loses"]), \
        f"ben's first submission (BROKEN_PART) was graded instead of the second: {o.failures}"


# -- 3/4: grades and feedback ---------------------------------------------------------------------------------------

def test_correct_work_gets_full_marks(trip):
    o = trip["outcomes"]["ada"]
    top = o.max_score - written_points(A)      # her written answer waits for a person
    assert o.status == "graded" and o.max_score > 0 and o.score == top, (o.score, o.failures, o.reason)
    (html,) = [p.read_text() for p in trip["feedback"]["ada"]]
    assert _score(html) == (top, o.max_score)
    assert "Late submission penalty" not in html


def test_buggy_work_loses_points_with_diagnosis(trip):
    o = trip["outcomes"]["ben"]
    assert 0 < o.score < o.max_score
    files = trip["feedback"]["ben"]
    assert len(files) == 1, f"ben should get feedback for his graded (latest) submission only: {files}"
    html = files[0].read_text()
    assert _score(html) == (o.score, o.max_score)
    assert nb01.DEMO_BUG["says"] in html, f"ben's feedback does not say {nb01.DEMO_BUG['says']!r}"
    # The feedback belongs to the second submission: its folder is named after that submission's timestamp.
    stamp = (trip["course"].dir / "submitted" / "ben" / A / "timestamp.txt").read_text().strip()
    assert files[0].parent.name == stamp


def test_feedback_hides_the_hidden_tests(trip):
    for name, files in trip["feedback"].items():
        for f in files:
            html = f.read_text()
            for leak in LEAKS:
                assert leak not in html, f"{name}'s feedback shows hidden test source ({leak!r})"


def test_each_student_gets_only_their_own_feedback(trip):
    course = trip["course"]
    for name, files in trip["feedback"].items():
        assert len(files) == 1, (name, files)
        mine = (course.dir / "feedback" / name / A / f"{A}.html").read_bytes()
        assert files[0].read_bytes() == mine, f"{name} fetched feedback that is not theirs"
        for other in trip["feedback"]:
            if other != name:
                theirs = (course.dir / "feedback" / other / A / f"{A}.html").read_bytes()
                assert files[0].read_bytes() != theirs
        # Nothing else lands in the student's assignment folder's feedback dir.
        everything = [p for p in (trip["students"][name].folder(A) / "feedback").rglob("*") if p.is_file()]
        assert everything == files, everything
    released = sorted((course.exchange_root / course.course_id / "feedback").glob("*.html"))
    assert len(released) == 3, released


# -- 5: late submissions --------------------------------------------------------------------------------------------

def test_late_submission_loses_the_stated_penalty(trip):
    lee = trip["outcomes"]["lee"]
    assert not lee.failures, lee.failures
    # docs/exchange.md: 10 % of the score per started day late. lee is seconds late: one day's worth. Her written
    # answer waits for a person, so the penalty is 10 % of the autograded score so far.
    raw = lee.max_score - written_points(A)
    assert lee.late_penalty == pytest.approx(0.1 * raw)
    assert lee.score == pytest.approx(0.9 * raw)
    (html,) = [p.read_text() for p in trip["feedback"]["lee"]]
    assert "Late submission penalty" in html
    assert _score(html) == pytest.approx((0.9 * raw, lee.max_score))
    for name in ("ada", "ben"):
        assert trip["outcomes"][name].late_penalty == 0, f"{name} submitted before the due date"
    rows = {r["student_id"]: r for r in csv.DictReader((trip["course"].dir / "grades.csv").open())}
    assert float(rows["lee"]["late_submission_penalty"]) == pytest.approx(0.1 * raw)
    assert float(rows["lee"]["score"]) == pytest.approx(0.9 * raw)
    assert float(rows["ada"]["late_submission_penalty"]) == 0


def test_late_policy_by_days():
    p = exchange.LatePenalty()
    assert p.late_submission_penalty("x", 17.0, 0) is None
    assert p.late_submission_penalty("x", 17.0, 1) == pytest.approx(1.7)
    assert p.late_submission_penalty("x", 17.0, 86400) == pytest.approx(1.7)
    assert p.late_submission_penalty("x", 17.0, 86401) == pytest.approx(3.4)
    assert p.late_submission_penalty("x", 17.0, 30 * 86400) == 17.0
    assert p.late_submission_penalty("x", 0.0, 3600) is None


# -- Unix permissions between students (only with separate uids) ------------------------------------------------

def test_students_cannot_list_each_others_work(trip):
    if not trip["multi_uid"]:
        pytest.skip("students share one uid here (not root, or no setpriv): Unix permissions cannot be shown")
    for name, probe in trip["probes"].items():
        assert probe["outbound"] == "listed", probe   # the released assignments are for everyone
        assert probe["feedback"] == "denied", f"{name} can list everyone's released feedback: {probe}"
        assert probe["inbound"] == "denied", f"{name} can list everyone's submissions: {probe}"
        for key, v in probe.items():
            if key.startswith(("home:", "cache:")):
                assert v == "denied", f"{name} can look into {key}: {probe}"

