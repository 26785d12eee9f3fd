"""The instructor's command line, one module per verb (``python -m autograder VERB``).

    python -m autograder build [ASSIGNMENT ...]      regenerate release/, solutions/ and the demo class from source/
    python -m autograder demo [--jobs N]             build, then autograde the demo class and print the grades
    python -m autograder grade --submitted DIR [--course DIR] [--jobs N] [--timeout S] [ASSIGNMENT ...]
                                                     autograde a class (nbgrader's submitted/<student>/<assignment>/)
    python -m autograder grade --zip DOWNLOAD.zip [--lms canvas|moodle|blackboard | --zip-regexp RE] ASSIGNMENT
                                                     autograde an LMS download, unpacked by nbgrader's zip_collect
    python -m autograder selftest source/NN_x/NN_x.ipynb ...
                                                     grade a source notebook's solution, blank, bug and broken part
    python -m autograder selftest --repeat N [--cases K] [NOTEBOOK ...]
                                                     re-run every test cell N times on the solution: false rejects
    python -m autograder feedback [--course DIR] [ASSIGNMENT ...]
                                                     after people graded written answers in the formgrader: feedback,
                                                     grades.csv and report.html again from the gradebook
    python -m autograder exchange STEP ...           the round trip through nbgrader's exchange (see its --help)
    python -m autograder report COURSE_DIR           rewrite a graded course's report.html from its outcomes.json
    python -m autograder hub [setup|run|teardown]    the demo JupyterHub with the formgrader service (root)
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..grading import nbg
from . import exchange, grade, hub


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="regenerate release/ and solutions/ from source/")
    b.add_argument("assignments", nargs="*")
    d = sub.add_parser("demo", help="build, autograde the demo class, print grades")
    d.add_argument("--jobs", type=int, default=None)
    d.add_argument("--no-build", action="store_true", help="grade the demo class without rebuilding first")
    st = sub.add_parser("selftest", help="grade source notebooks against themselves (solution, blank, bug, part)")
    st.add_argument("notebooks", nargs="*", type=Path, help="source notebooks (with --repeat: default all of source/)")
    st.add_argument("--repeat", type=int, default=0, metavar="N",
                    help="re-run every graded test cell N times on the solution, one kernel, and count false rejects")
    st.add_argument("--cases", type=int, default=0, metavar="K",
                    help="with --repeat: keep re-running each test cell until it has drawn at least K random cases")
    fb = sub.add_parser("feedback", help="after manual grading: feedback, grades.csv and report.html from the gradebook")
    fb.add_argument("assignments", nargs="*", help="default: every assignment graded in the course")
    fb.add_argument("--course", type=Path, default=nbg.ROOT / "run" / "grade",
                    help="a graded course directory (default run/grade, where `grade` writes)")
    r = sub.add_parser("report", help="rewrite report.html of a graded course from its outcomes.json")
    r.add_argument("course", type=Path)
    parsers = {"grade": grade.add_parser(sub), "exchange": exchange.add_parser(sub), "hub": hub.add_parser(sub)}
    args = p.parse_args(argv)
    if args.cmd == "build":
        from ..authoring import build
        build.build(only=args.assignments or None)
        return 0
    if args.cmd == "demo":
        from . import demo
        return demo.main(jobs=args.jobs, rebuild=not args.no_build)
    if args.cmd == "selftest":
        if args.repeat or args.cases:
            from ..authoring import repeat
            return repeat.main([str(n) for n in args.notebooks], max(args.repeat, 1), args.cases)
        if not args.notebooks:
            st.error("name at least one source notebook (or use --repeat)")
        from ..authoring import selftest
        return selftest.main([str(n) for n in args.notebooks])
    if args.cmd == "feedback":
        from ..grading import classrun, publish
        with classrun.course_lock(args.course):
            publish.publish(args.course, args.assignments or None)
        return 0
    if args.cmd == "report":
        from ..report import page
        return page.main([str(args.course)])
    module = {"grade": grade, "exchange": exchange, "hub": hub}[args.cmd]
    return module.run(args, parsers[args.cmd])
