"""``make demo``: rebuild release/ and solutions/, autograde the bundled demo class, print the grades.

The grading runs in a fresh throwaway copy of the course, run/demo/ (git-ignored), so the repo never holds a gradebook.
"""
from __future__ import annotations

import time
from pathlib import Path

from . import build, grade, nbg


def main(root: Path = nbg.ROOT, jobs: int | None = None, rebuild: bool = True) -> int:
    t0 = time.perf_counter()
    if rebuild:
        print("== 1. Regenerating release/ and solutions/ from source/")
        build.build(root)
    names = nbg.assignments(root)
    course = root / "run" / "demo"
    print(f"\n== 2. Autograding the demo class in a throwaway copy: {course.relative_to(root)}/")
    for s, what in build.DEMO_STUDENTS.items():
        print(f"   {s:5s} {what}")
    grade.prepare(course, root, submitted=build.DEMO_DIR)
    outcomes = grade.grade(course, names, jobs=jobs)
    print("\n== 3. Grades\n")
    print(grade.table(outcomes))
    print(f"\nFeedback (HTML, one per student and assignment): {course.relative_to(root)}/feedback/<student>/<assignment>/")
    print(f"Grades CSV (nbgrader export):                    {course.relative_to(root)}/grades.csv")
    print(f"Class report (HTML + PNG figures):               {course.relative_to(root)}/report.html")
    print(f"Done in {time.perf_counter() - t0:.0f} s.")
    problems = [o for o in outcomes if o.status != "graded"]
    if problems:
        print(f"\n{len(problems)} demo submission(s) could not be graded: the demo expects all to be graded.")
        return 1
    return 0
