"""``python -m autograder grade``: autograde a class from nbgrader's submitted/ layout or from an LMS download."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..grading import classrun, nbg, zipcollect
from ..grading.submission import Limits
from ..report.table import table

#: The exit status when some grade could not be trusted (the summary line says how many).
EXIT_GRADE_AGAIN = 3


def add_parser(sub) -> argparse.ArgumentParser:
    g = sub.add_parser("grade", help="autograde a class")
    g.add_argument("assignments", nargs="*")
    src = g.add_mutually_exclusive_group(required=True)
    src.add_argument("--submitted", type=Path, help="nbgrader submitted/ layout: STUDENT/ASSIGNMENT/*.ipynb")
    src.add_argument("--zip", type=Path, help="an LMS download of ONE assignment (a .zip, or a folder of its files)")
    g.add_argument("--lms", default="canvas", choices=sorted(zipcollect.LMS_FORMATS),
                   help="how the LMS names the files in --zip (default: canvas); see autograder/grading/zipcollect.py")
    g.add_argument("--zip-regexp", default=None, help="your own FileNameCollectorPlugin.named_regexp for --zip, with "
                                                      "(?P<student_id>...) and (?P<file_id>...); overrides --lms")
    g.add_argument("--course", type=Path, default=nbg.ROOT / "run" / "grade", help="throwaway course copy (replaced)")
    g.add_argument("--jobs", type=int, default=None, help="parallel students (default: all cores)")
    g.add_argument("--timeout", type=float, default=600, help="whole-notebook time limit in seconds")
    g.add_argument("--cell-timeout", type=float, default=60, help="per-cell time limit in seconds")
    g.add_argument("--memory-mb", type=int, default=4096, help="memory limit of each kernel (RLIMIT_AS), MiB")
    g.add_argument("--db", default=None, metavar="URL",
                   help="the gradebook's SQLAlchemy URL, e.g. postgresql+psycopg2://USER@HOST/DB (default: sqlite in "
                        "--course); see docs/scaling.md")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="grade on a Dask cluster: tcp://HOST:8786, or local:N for N local worker processes (the "
                        "`cluster` extra; --course must be on a file system the workers share)")
    return g


def unpack_zip(course: Path, assignment: str, archive: Path, regexp: str | None, lms: str) -> str:
    """nbgrader generate_assignment (for zip_collect's notebook-name check), then zip_collect; returns a summary."""
    nbg.run(["generate_assignment", assignment, "--force"], cwd=course, db=nbg.db_url(course))
    res = zipcollect.collect_zip(course, assignment, archive, regexp=regexp, fmt=lms)
    (course / "submitted").mkdir(exist_ok=True)
    lines = [f"{archive.name}: {len(res.students)} student(s) collected into {course / 'submitted'}"]
    lines += [f"  skipped {s}" for s in res.skipped]
    lines += [f"  warning: {w}" for w in res.warnings]
    if res.late:
        lines.append(f"  marked late by the LMS (no late penalty applied): {', '.join(res.late)}")
    return "\n".join(lines)


def run(args, parser) -> int:
    if args.zip and len(args.assignments) != 1:
        parser.error("--zip takes exactly one ASSIGNMENT: an LMS download holds one assignment")
    with classrun.course_lock(args.course):
        return _run(args)


def _run(args) -> int:
    if args.zip:
        course = classrun.prepare(args.course.resolve(), db=args.db)
        print(unpack_zip(course, args.assignments[0], args.zip.resolve(), args.zip_regexp, args.lms))
    else:
        course = classrun.prepare(args.course.resolve(), submitted=args.submitted.resolve(), db=args.db)
    limits = Limits(notebook_timeout=args.timeout, cell_timeout=args.cell_timeout, memory_mb=args.memory_mb)
    names = args.assignments or nbg.assignments()
    if args.scheduler:
        from ..grading import cluster   # Dask is imported only here
        outcomes = cluster.grade(course, names, args.scheduler, limits=limits)
    else:
        outcomes = classrun.grade(course, names, jobs=args.jobs, limits=limits)
    print(table(outcomes))
    print(f"\nFeedback: {course}/feedback/   Grades: {course}/grades.csv   Report: {course}/report.html")
    print(classrun.summary(outcomes, course))
    return 0 if all(o.trusted for o in outcomes) else EXIT_GRADE_AGAIN
