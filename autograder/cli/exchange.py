"""``python -m autograder exchange STEP``: the nbgrader round trip through the exchange (autograder/grading/exchange.py).

    python -m autograder exchange init                       copy nbgrader_config.py and source/ into the course dir
    python -m autograder exchange release 01_chain_rule      generate_assignment + due date + release_assignment
    python -m autograder exchange collect 01_chain_rule      collect the latest submission of every student
    python -m autograder exchange autograde 01_chain_rule    autograde in parallel, print grades, write grades.csv
    python -m autograder exchange feedback 01_chain_rule     generate_feedback (hidden tests stripped) with the points
                                                             people gave written answers; grades.csv, report again
    python -m autograder exchange release-feedback 01_chain_rule
    python -m autograder exchange student ada fetch|submit|fetch-feedback|list 01_chain_rule
    python -m autograder exchange demo [ASSIGNMENT ...]      the whole round trip with two students, ada and ben

Options of every step: ``--course DIR`` (default run/course) and ``--exchange DIR`` (default: what nbgrader_config.py
says, i.e. $BACKPROP_EXCHANGE or ``<course>/exchange``). See docs/exchange.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..grading import nbg
from ..grading.exchange import (COURSE_DIR, EXCHANGE_ENV, Course, autograde, collect, generate_feedback, init, release,
                                release_feedback)
from ..grading.students import HOMES_DIR, student
from .demo import exchange_demo


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("exchange", help="the round trip through nbgrader's exchange (release, collect, autograde, ...)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--course", type=Path, default=COURSE_DIR, help="course run directory (default run/course)")
    p.add_argument("--exchange", type=Path, default=None,
                   help=f"exchange root (default: nbgrader_config.py: ${EXCHANGE_ENV} or <course>/exchange)")
    p.add_argument("--db", default=None, metavar="URL",
                   help="the gradebook's SQLAlchemy URL (e.g. postgresql+psycopg2://USER@HOST/DB), kept in the course "
                        "directory for the later steps (default: sqlite in the course directory)")
    steps = p.add_subparsers(dest="step", required=True)
    steps.add_parser("init", help="create/refresh the course dir from the repo (config and source/)")
    for name, text in [("release", "generate_assignment + due date + release_assignment"),
                       ("collect", "collect the latest submissions"),
                       ("autograde", "autograde the collected submissions, print grades, write grades.csv"),
                       ("feedback", "generate_feedback with people's points; grades.csv and report.html again"),
                       ("release-feedback", "release_feedback")]:
        sp = steps.add_parser(name, help=text)
        sp.add_argument("assignments", nargs="*", help="default: every assignment in source/")
        if name == "autograde":
            sp.add_argument("--jobs", type=int, default=None)
        if name == "collect":
            sp.add_argument("--no-check-owner", action="store_true",
                            help="all students share one Unix account: skip the owner cross-check warning")
        if name == "release":
            sp.add_argument("--no-refresh", action="store_true", help="do not copy config and source/ from the repo")
    st = steps.add_parser("student", help="act as a student on this machine (a demo; real students use JupyterLab)")
    st.add_argument("name")
    st.add_argument("action", choices=["fetch", "submit", "fetch-feedback", "list"])
    st.add_argument("assignment", nargs="?")
    st.add_argument("--homes", type=Path, default=HOMES_DIR, help="students' home directories (default run/homes)")
    dm = steps.add_parser("demo", help="the whole round trip with two students in run/exchange-demo/")
    dm.add_argument("assignments", nargs="*")
    return p


def run(args, parser) -> int:

    if args.step == "demo":
        return exchange_demo(args.assignments or nbg.assignments())
    course = Course(args.course, exchange=args.exchange)
    if args.db:
        course.dir.mkdir(parents=True, exist_ok=True)
        nbg.set_db_url(course.dir, args.db)   # kept in the course directory: every later step uses it too
    if args.step == "init" or (args.step == "release" and not args.no_refresh):
        init(course)
        print(f"course dir: {course.dir}  (exchange: {course.exchange_root})")
        if args.step == "init":
            return 0
    if not (course.dir / "nbgrader_config.py").exists():
        print(f"{course.dir} is not a course directory: run `python -m autograder exchange init` first",
              file=sys.stderr)
        return 2
    if args.step == "student":
        s = student(course, args.name, homes=args.homes)
        if args.action != "list" and not args.assignment:
            parser.error(f"student {args.action} needs an assignment")
        if args.action == "fetch":
            print(f"{s.name}: {s.fetch(args.assignment)}")
        elif args.action == "submit":
            print(s.submit(args.assignment).output.strip().splitlines()[-1])
        elif args.action == "fetch-feedback":
            files = s.fetch_feedback(args.assignment)
            print("\n".join(map(str, files)) or f"{s.name}: no feedback released yet for {args.assignment}")
        else:
            print(s.list())
        return 0
    names = args.assignments or nbg.assignments(course.dir)
    if args.step == "release":
        release(course, names)
    elif args.step == "collect":
        course.check_owner = not args.no_check_owner
        collect(course, names)
    elif args.step == "autograde":
        outcomes = autograde(course, names, jobs=args.jobs)
        print(f"\nGrades: {course.dir / 'grades.csv'}")
        return 0 if all(o.status == "graded" for o in outcomes) else 1
    elif args.step == "feedback":
        generate_feedback(course, names)
    elif args.step == "release-feedback":
        release_feedback(course, names)
    return 0

