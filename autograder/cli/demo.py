"""The two demos: ``make demo`` (rebuild, then autograde the bundled demo class and print the grades) and
``make exchange-demo`` (the whole exchange round trip with two students on this machine).

The grading runs in a fresh throwaway copy of the course, run/demo/ (git-ignored), so the repo never holds a gradebook.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat

from ..authoring import build
from ..authoring.variants import blank, fill
from ..checks import checks_module
from ..grading import classrun, nbg
from ..grading.exchange import Course, autograde, collect, generate_feedback, init, release, release_feedback
from ..grading.students import student
from ..report.table import table


def main(root: Path = nbg.ROOT, jobs: int | None = None, rebuild: bool = True) -> int:
    with classrun.course_lock(root / "run" / "demo"):   # a second `make demo` waits: it would rebuild under this one
        return _demo(root, jobs, rebuild)


def _demo(root: Path, jobs: int | None, rebuild: bool) -> int:
    t0 = time.perf_counter()
    if rebuild:
        print("== 1. Regenerating release/ and solutions/ from source/")
        build.build(root)
    names = nbg.assignments(root)
    course = root / "run" / "demo"
    print(f"\n== 2. Autograding the demo class in a throwaway copy: {course.relative_to(root)}/")
    for s, what in build.DEMO_STUDENTS.items():
        print(f"   {s:5s} {what}")
    classrun.prepare(course, root, submitted=build.demo_class_dir())
    outcomes = classrun.grade(course, names, jobs=jobs)
    print("\n== 3. Grades\n")
    print(table(outcomes))
    print("\n" + classrun.summary(outcomes, course))
    print(f"\nFeedback (HTML, one per student and assignment): {course.relative_to(root)}/feedback/<student>/<assignment>/")
    print(f"Grades CSV (nbgrader export):                    {course.relative_to(root)}/grades.csv")
    print(f"Class report (HTML + PNG figures):               {course.relative_to(root)}/report.html")
    print(f"Done in {time.perf_counter() - t0:.0f} s.")
    problems = [o for o in outcomes if o.status != "graded"]
    if problems:
        print(f"\n{len(problems)} demo submission(s) could not be graded: the demo expects all to be graded.")
        return 1
    return 0


def exchange_demo(assignments: list[str], base: Path = nbg.ROOT / "run" / "exchange-demo", log=print) -> int:
    """ada submits correct work, ben a typical bug (after a first, blank submission: the later one counts). Both
    fetch their feedback. Everything lives in ``base`` (replaced), the exchange in ``base/course/exchange``."""
    t0 = time.perf_counter()
    if base.exists():
        shutil.rmtree(base)
    course = init(Course(base / "course", check_owner=False))
    log(f"== instructor: release {' '.join(assignments)} (course dir {course.dir})")
    release(course, assignments, log=log)
    ada, ben = (student(course, n, homes=base / "homes") for n in ("ada", "ben"))
    for a in assignments:
        src = nbformat.read(course.dir / "source" / a / f"{a}.ipynb", as_version=4)
        for s in (ada, ben):
            log(f"== {s.name}: fetch {a} into {s.folder(a)}")
            s.fetch(a)
        rel = nbformat.read(ada.notebook(a), as_version=4)
        nbformat.write(fill(rel, src), ada.notebook(a))
        ada.submit(a)
        nbformat.write(blank(rel, src), ben.notebook(a))
        ben.submit(a)
        nbformat.write(fill(rel, src, bug=checks_module(a).DEMO_BUG), ben.notebook(a))
        ben.submit(a)
        log(f"== ada submitted {a} once (correct); ben twice (blank, then with a typical bug)")
    log("== instructor: collect, autograde, feedback, release feedback")
    collect(course, assignments, log=log)
    autograde(course, assignments, log=log)
    generate_feedback(course, assignments, log=log)
    release_feedback(course, assignments, log=log)
    for a in assignments:
        for s in (ada, ben):
            files = s.fetch_feedback(a)
            log(f"== {s.name}: feedback for {a}: {', '.join(str(f.relative_to(base)) for f in files) or 'NONE'}")
    log(f"Done in {time.perf_counter() - t0:.0f} s.")
    return 0
