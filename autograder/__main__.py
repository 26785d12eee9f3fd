"""Instructor command line.

    python -m autograder build [ASSIGNMENT ...]      regenerate release/, solutions/ and the demo class from source/
    python -m autograder demo [--jobs N]             build, then autograde the demo class and print the grades
    python -m autograder grade --submitted DIR [--course DIR] [--jobs N] [--timeout S] [ASSIGNMENT ...]
                                                     autograde a class (nbgrader's submitted/<student>/<assignment>/)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import build, demo, grade, nbg


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
    g.add_argument("--submitted", type=Path, required=True, help="nbgrader submitted/ layout: STUDENT/ASSIGNMENT/*.ipynb")
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
    course = grade.prepare(args.course.resolve(), submitted=args.submitted.resolve())
    limits = grade.Limits(notebook_timeout=args.timeout, cell_timeout=args.cell_timeout, memory_mb=args.memory_mb)
    outcomes = grade.grade(course, args.assignments or nbg.assignments(), jobs=args.jobs, limits=limits)
    print(grade.table(outcomes))
    print(f"\nFeedback: {course}/feedback/   Grades: {course}/grades.csv   Report: {course}/report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
