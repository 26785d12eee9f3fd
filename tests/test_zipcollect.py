"""LMS downloads into submitted/ through nbgrader's zip_collect (autograder/grading/zipcollect.py).

The regexps are checked alone against Canvas, Moodle and Blackboard file names (fast). Then real nbgrader collects a
Canvas zip, a Moodle folder and a Blackboard zip into a course made by classrun.prepare, and the test looks at exactly
which files land where, byte for byte.
"""
from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from autograder.authoring import build
from autograder.grading import classrun, nbg, submission, zipcollect
from autograder.grading.zipcollect import LMS_FORMATS
from conftest import ROOT

A = "01_chain_rule"
DIR = "/srv/course/downloaded/01_chain_rule/extracted/"   # the regexps see absolute paths


def nbgrader_name(fmt: str, path: str) -> tuple[str, str] | None:
    """(student, file name) as nbgrader 0.9.6 derives them: re.match on the path, then file_id's stem + the
    file's own extension."""
    m = re.match(LMS_FORMATS[fmt], DIR + path)
    if not m:
        return None
    return m["student_id"], os.path.splitext(m["file_id"])[0] + os.path.splitext(path)[1]


@pytest.mark.parametrize("path, expected", [
    ("submissions/smithjohn_12345_678901_01_chain_rule.ipynb", ("12345", "01_chain_rule.ipynb")),
    ("submissions/smithjohn_LATE_12345_678901_01_chain_rule.ipynb", ("12345", "01_chain_rule.ipynb")),
    ("submissions/smithjohn_12345_678901_01_chain_rule-1.ipynb", ("12345", "01_chain_rule.ipynb")),
    ("submissions/smithjohn_12345_678901_01_chain_rule-12.ipynb", ("12345", "01_chain_rule.ipynb")),
    ("submissions/smithjohn_12345_678901_01_chain_rule (1).ipynb", ("12345", "01_chain_rule.ipynb")),
    ("submissions/smithjohn_12345_678901_my_copy.ipynb", ("12345", "my_copy.ipynb")),
    ("submissions/smithjohn_12345_678901_hw_2_3.ipynb", ("12345", "hw_2_3.ipynb")),
    ("submissions/o_brienpat_777_678901_01_chain_rule.ipynb", ("777", "01_chain_rule.ipynb")),
    ("submissions/anon_aB3dE_678901_01_chain_rule.ipynb", ("anon_aB3dE", "01_chain_rule.ipynb")),
    ("submissions/LATE_anon_aB3dE_678901_01_chain_rule.ipynb", ("anon_aB3dE", "01_chain_rule.ipynb")),
    ("smithjohn_12345_678901_01_chain_rule.ipynb", ("12345", "01_chain_rule.ipynb")),     # a folder, not a zip
    # must not match
    ("submissions/01_chain_rule.ipynb", None),
    ("submissions/notes.ipynb", None),
    ("submissions/readme.txt", None),
    ("submissions/smithjohn_12345_678901_work/01_chain_rule.ipynb", None),    # inside a zip the student uploaded
    ("__MACOSX/submissions/._smithjohn_12345_678901_01_chain_rule.ipynb", None),
    ("dl/Ada Lovelace_5001_assignsubmission_file_/01_chain_rule.ipynb", None),
    ("dl/01_chain_rule_jsmith_attempt_2024-03-01-14-05-09_01_chain_rule.ipynb", None),
])
def test_canvas_regexp(path, expected):
    assert nbgrader_name("canvas", path) == expected


def test_canvas_late_group():
    late = re.match(LMS_FORMATS["canvas"], DIR + "s/smithjohn_LATE_12345_678901_01_chain_rule.ipynb")
    on_time = re.match(LMS_FORMATS["canvas"], DIR + "s/smithjohn_12345_678901_01_chain_rule.ipynb")
    anon = re.match(LMS_FORMATS["canvas"], DIR + "s/LATE_anon_aB3dE_678901_01_chain_rule.ipynb")
    assert late["late"] and anon["late"] and not on_time["late"]


@pytest.mark.parametrize("path, expected", [
    ("dl/Ada Lovelace_5001_assignsubmission_file_/01_chain_rule.ipynb", ("5001", "01_chain_rule.ipynb")),
    ("dl/Ada Lovelace_5001_assignsubmission_file_01_chain_rule.ipynb", ("5001", "01_chain_rule.ipynb")),  # flat
    ("dl/Participant_1234567_assignsubmission_file_/my_copy.ipynb", ("1234567", "my_copy.ipynb")),
    ("dl/Team A-Ada Lovelace_5001_assignsubmission_file_/01_chain_rule (1).ipynb", ("5001", "01_chain_rule.ipynb")),
    ("dl/José Núñez_77_assignsubmission_file_/01_chain_rule.ipynb", ("77", "01_chain_rule.ipynb")),
    # must not match
    ("dl/Ada Lovelace_5001_assignsubmission_onlinetext_/onlinetext.html", None),
    ("dl/Ada Lovelace_5001_assignsubmission_onlinetext_/01_chain_rule.ipynb", None),
    ("dl/Ada Lovelace_5001_assignsubmission_file_/sub/01_chain_rule.ipynb", None),
    ("dl/__MACOSX/Ada Lovelace_5001_assignsubmission_file_/._01_chain_rule.ipynb", None),
    ("dl/01_chain_rule.ipynb", None),
    ("submissions/smithjohn_12345_678901_01_chain_rule.ipynb", None),
])
def test_moodle_regexp(path, expected):
    assert nbgrader_name("moodle", path) == expected


@pytest.mark.parametrize("path, expected", [
    ("g/01_chain_rule_jsmith_attempt_2024-03-01-14-05-09_01_chain_rule.ipynb", ("jsmith", "01_chain_rule.ipynb")),
    ("g/Chain rule_ab1234_attempt_2024-03-01-14-05-09_my_copy.ipynb", ("ab1234", "my_copy.ipynb")),
    ("g/HW1_ab1234_attempt_2024-03-01-14-05-09_01_chain_rule (2).ipynb", ("ab1234", "01_chain_rule.ipynb")),
    # must not match
    ("g/01_chain_rule_jsmith_attempt_2024-03-01-14-05-09.txt", None),
    ("g/01_chain_rule_jsmith_attempt_2024-03-01_01_chain_rule.ipynb", None),
    ("g/01_chain_rule.ipynb", None),
    ("submissions/smithjohn_12345_678901_01_chain_rule.ipynb", None),
])
def test_blackboard_regexp(path, expected):
    assert nbgrader_name("blackboard", path) == expected


def test_blackboard_hands_nbgrader_only_the_date():
    m = re.match(LMS_FORMATS["blackboard"], DIR + "g/HW1_jsmith_attempt_2024-03-01-14-05-09_01_chain_rule.ipynb")
    assert (m["timestamp"], m["time"]) == ("2024-03-01", "14-05-09")


def test_bad_regexp_and_format_are_refused(tmp_path):
    with pytest.raises(ValueError, match="file_id"):
        zipcollect.collect_zip(tmp_path, A, tmp_path, regexp=r".*/(?P<student_id>\d+)_.*")
    with pytest.raises(ValueError, match="unknown LMS format"):
        zipcollect.collect_zip(tmp_path, A, tmp_path, fmt="d2l")


# ---- real nbgrader -----------------------------------------------------------------------------------------------

NOTEBOOKS = {name: (build.DEMO_DIR / name / A / f"{A}.ipynb").read_bytes() for name in ("ada", "ben", "cy", "dee")}


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """A course from classrun.prepare with release/ (zip_collect checks notebook names against it), made once."""
    assert len(set(NOTEBOOKS.values())) == 4, "the demo notebooks must differ for the byte checks to mean anything"
    course = classrun.prepare(tmp_path_factory.mktemp("template") / "course", ROOT)
    nbg.run(["generate_assignment", A, "--force"], cwd=course, db=course / "gradebook.db")
    return course


@pytest.fixture
def course(released, tmp_path) -> Path:
    return Path(shutil.copytree(released, tmp_path / "course"))


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def landed(course: Path) -> dict[str, bytes]:
    sub = course / "submitted"
    return {str(p.relative_to(sub)): p.read_bytes() for p in sorted(sub.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_canvas_zip(course, tmp_path):
    archive = make_zip(tmp_path / "CS101-01_chain_rule submissions.zip", {
        "smithjohn_101_9001_01_chain_rule.ipynb": NOTEBOOKS["ada"],
        "doejane_LATE_102_9002_01_chain_rule.ipynb": NOTEBOOKS["cy"],
        "lovelaceada_103_9003_01_chain_rule-1.ipynb": NOTEBOOKS["ben"],
        "turingalan_104_9004_my_copy.ipynb": NOTEBOOKS["dee"],
        "readme.txt": b"not a submission",
        "notes.ipynb": NOTEBOOKS["ada"],
    })
    res = zipcollect.collect_zip(course, A, archive)
    assert landed(course) == {
        f"101/{A}/{A}.ipynb": NOTEBOOKS["ada"],
        f"102/{A}/{A}.ipynb": NOTEBOOKS["cy"],
        f"103/{A}/{A}.ipynb": NOTEBOOKS["ben"],
        f"104/{A}/my_copy.ipynb": NOTEBOOKS["dee"],
    }
    assert res.students == ["101", "102", "103", "104"]
    assert res.files["104"] == ["my_copy.ipynb"] and res.files["103"] == [f"{A}.ipynb"]
    assert res.late == ["102"]
    assert len(res.skipped) == 2
    assert any(s.startswith("readme.txt") for s in res.skipped)
    assert any(s.startswith("notes.ipynb") for s in res.skipped)
    assert len(res.warnings) == 1
    assert "my_copy.ipynb" in res.warnings[0] and "104" in res.warnings[0]
    assert all("\n" not in line for line in res.skipped + res.warnings)
    # the renamed notebook is graded as missing, with the hint
    assert "renamed?" in submission.precheck(course, A, "104") and submission.precheck(course, A, "101") == ""


@pytest.mark.slow
def test_moodle_folder(course, tmp_path):
    dl = tmp_path / "moodle"   # the instructor unzipped "Download all submissions": a folder per student
    files = {
        "Ada Lovelace_5001_assignsubmission_file_/01_chain_rule.ipynb": NOTEBOOKS["ada"],
        "Ben Bitdiddle_5002_assignsubmission_file_/01_chain_rule (1).ipynb": NOTEBOOKS["ben"],
        "Cy Young_5003_assignsubmission_onlinetext_/onlinetext.html": b"<p>see attached</p>",
        "Dee Dee_5004_assignsubmission_file_01_chain_rule.ipynb": NOTEBOOKS["dee"],   # "download in folders" off
    }
    for name, data in files.items():
        (dl / name).parent.mkdir(parents=True, exist_ok=True)
        (dl / name).write_bytes(data)
    res = zipcollect.collect_zip(course, A, dl, fmt="moodle")
    assert landed(course) == {
        f"5001/{A}/{A}.ipynb": NOTEBOOKS["ada"],
        f"5002/{A}/{A}.ipynb": NOTEBOOKS["ben"],
        f"5004/{A}/{A}.ipynb": NOTEBOOKS["dee"],
    }
    assert res.students == ["5001", "5002", "5004"]
    assert res.skipped == ["Cy Young_5003_assignsubmission_onlinetext_/onlinetext.html: not a notebook (.html)"]
    assert res.warnings == [] and res.late == []


@pytest.mark.slow
def test_blackboard_keeps_latest_attempt_with_its_full_time(course, tmp_path):
    """nbgrader's own date parsing reads 09-00-50 as 09:00 at UTC-50 h, i.e. after 14-05-09 (14:00 at UTC-9 h): given
    the whole time it would keep the earlier attempt and write a wrong timestamp.txt."""
    archive = make_zip(tmp_path / "gradebook_CS101_HW1_2024-03-05-10-00-00.zip", {
        "HW1_jsmith_attempt_2024-03-01-09-00-50.txt": b"Name: John Smith",
        "HW1_jsmith_attempt_2024-03-01-09-00-50_01_chain_rule.ipynb": NOTEBOOKS["cy"],
        "HW1_jsmith_attempt_2024-03-01-14-05-09.txt": b"Name: John Smith",
        "HW1_jsmith_attempt_2024-03-01-14-05-09_01_chain_rule.ipynb": NOTEBOOKS["ada"],
        "HW1_ab1234_attempt_2024-03-02-23-59-30_01_chain_rule.ipynb": NOTEBOOKS["ben"],
    })
    res = zipcollect.collect_zip(course, A, archive, fmt="blackboard")
    assert landed(course) == {
        f"ab1234/{A}/{A}.ipynb": NOTEBOOKS["ben"],
        f"ab1234/{A}/timestamp.txt": b"2024-03-02 23:59:30",
        f"jsmith/{A}/{A}.ipynb": NOTEBOOKS["ada"],
        f"jsmith/{A}/timestamp.txt": b"2024-03-01 14:05:09",
    }
    assert sorted(s.split(":")[0] for s in res.skipped) == ["HW1_jsmith_attempt_2024-03-01-09-00-50.txt",
                                                             "HW1_jsmith_attempt_2024-03-01-14-05-09.txt"]
    assert len(res.warnings) == 1 and "jsmith" in res.warnings[0] and "14-05-09" in res.warnings[0]


@pytest.mark.slow
def test_two_same_named_files_of_one_student_stop_with_a_clear_error(course, tmp_path):
    archive = make_zip(tmp_path / "submissions.zip", {
        "smithjohn_101_9001_01_chain_rule.ipynb": NOTEBOOKS["ada"],
        "smithjohn_101_9002_01_chain_rule-1.ipynb": NOTEBOOKS["cy"],
    })
    with pytest.raises(RuntimeError, match=r"student 101\).*Duplicate submission file"):
        zipcollect.collect_zip(course, A, archive)


@pytest.mark.slow
def test_cli_grades_a_canvas_download_end_to_end(tmp_path):
    """`python -m autograder grade --zip ... 01_chain_rule`: collected by zip_collect, graded, in the table and the CSV
    under the Canvas user ids; the renamed notebook and the stray file are named in the output."""
    import subprocess
    import sys

    archive = make_zip(tmp_path / "submissions.zip", {
        "smithjohn_101_9001_01_chain_rule.ipynb": NOTEBOOKS["ada"],
        "lovelaceada_103_9003_01_chain_rule-1.ipynb": NOTEBOOKS["ben"],
        "turingalan_104_9004_my_copy.ipynb": NOTEBOOKS["ada"],
        "readme.txt": b"not a submission",
    })
    course = tmp_path / "grading"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--zip", str(archive), "--course", str(course),
                           "--jobs", "2", A], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    out = proc.stdout
    assert proc.returncode == 0, f"{out[-3000:]}\n{proc.stderr[-3000:]}"
    assert "3 student(s) collected" in out, out
    assert re.search(r"skipped readme\.txt", out), out
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith(A)}
    assert set(rows) == {"101", "103", "104"}, out
    assert "17.0 / 19.0" in rows["101"], rows["101"]     # 2 points of written answer wait for a person
    assert "12.0 / 19.0" in rows["103"] and "sign error" in rows["103"], rows["103"]
    assert " 0.0 / 19.0" in rows["104"] and "renamed?" in rows["104"], rows["104"]
    import csv
    rows = list(csv.DictReader((course / "grades.csv").open()))
    scores = {r["student_id"]: (r["score"], r["status"].split(":")[0]) for r in rows}
    assert scores == {"101": ("17.0", "incomplete"), "103": ("12.0", "incomplete"), "104": ("0.0", "not graded")}, rows
    assert (course / "feedback" / "103" / A / f"{A}.html").exists()
