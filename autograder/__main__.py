"""Instructor command line.

    python -m autograder build [ASSIGNMENT ...]      regenerate release/, solutions/ and the demo class from source/
    python -m autograder demo [--jobs N]             build, then autograde the demo class and print the grades
    python -m autograder grade --submitted DIR [--course DIR] [--jobs N] [--timeout S] [ASSIGNMENT ...]
                                                     autograde a class (nbgrader's submitted/<student>/<assignment>/)
    python -m autograder grade --zip DOWNLOAD.zip [--lms canvas|moodle|blackboard | --zip-regexp RE] ASSIGNMENT
                                                     autograde an LMS download, unpacked by nbgrader's zip_collect
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import build, demo, grade, nbg, zipcollect


def unpack_zip(course: Path, assignment: str, archive: Path, regexp: str | None, lms: str) -> str:
    """nbgrader generate_assignment (for zip_collect's notebook-name check), then zip_collect; returns a summary."""
    nbg.run(["generate_assignment", assignment, "--force"], cwd=course, db=grade.db_path(course))
    res = zipcollect.collect_zip(course, assignment, archive, regexp=regexp, fmt=lms)
    (course / "submitted").mkdir(exist_ok=True)
    lines = [f"{archive.name}: {len(res.students)} student(s) collected into {course / 'submitted'}"]
    lines += [f"  skipped {s}" for s in res.skipped]
    lines += [f"  warning: {w}" for w in res.warnings]
    if res.late:
        lines.append(f"  marked late by the LMS (no late penalty applied): {', '.join(res.late)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="regenerate release/ and solutions/ from source/")
    b.add_argument("assignments", nargs="*")
    d = sub.add_parser("demo", help="build, autograde the demo class, print grades")
    d.add_argument("--jobs", type=int, default=None)
    d.add_argument("--no-build", action="store_true", help="grade the demo class without rebuilding first")
    g = sub.add_parser("grade", help="autograde a class")
    g.add_argument("assignments", nargs="*")
    src = g.add_mutually_exclusive_group(required=True)
    src.add_argument("--submitted", type=Path, help="nbgrader submitted/ layout: STUDENT/ASSIGNMENT/*.ipynb")
    src.add_argument("--zip", type=Path, help="an LMS download of ONE assignment (a .zip, or a folder of its files)")
    g.add_argument("--lms", default="canvas", choices=sorted(zipcollect.LMS_FORMATS),
                   help="how the LMS names the files in --zip (default: canvas); see autograder/zipcollect.py")
    g.add_argument("--zip-regexp", default=None, help="your own FileNameCollectorPlugin.named_regexp for --zip, with "
                                                      "(?P<student_id>...) and (?P<file_id>...); overrides --lms")
    g.add_argument("--course", type=Path, default=nbg.ROOT / "run" / "grade", help="throwaway course copy (replaced)")
    g.add_argument("--jobs", type=int, default=None, help="parallel students (default: all cores)")
    g.add_argument("--timeout", type=float, default=600, help="whole-notebook time limit in seconds")
    g.add_argument("--cell-timeout", type=float, default=60, help="per-cell time limit in seconds")
    g.add_argument("--memory-mb", type=int, default=4096, help="memory limit of each kernel (RLIMIT_AS), MiB")
    args = p.parse_args(argv)
    if args.cmd == "build":
        build.build(only=args.assignments or None)
        return 0
    if args.cmd == "demo":
        return demo.main(jobs=args.jobs, rebuild=not args.no_build)
    if args.zip:
        if len(args.assignments) != 1:
            p.error("--zip takes exactly one ASSIGNMENT: an LMS download holds one assignment")
        course = grade.prepare(args.course.resolve())
        print(unpack_zip(course, args.assignments[0], args.zip.resolve(), args.zip_regexp, args.lms))
    else:
        course = grade.prepare(args.course.resolve(), submitted=args.submitted.resolve())
    limits = grade.Limits(notebook_timeout=args.timeout, cell_timeout=args.cell_timeout, memory_mb=args.memory_mb)
    outcomes = grade.grade(course, args.assignments or nbg.assignments(), jobs=args.jobs, limits=limits)
    print(grade.table(outcomes))
    print(f"\nFeedback: {course}/feedback/   Grades: {course}/grades.csv   Report: {course}/report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
