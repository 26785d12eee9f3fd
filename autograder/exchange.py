"""The nbgrader round trip through the exchange, as on a shared course server.

Instructors publish assignments to nbgrader's exchange; students fetch and submit them (JupyterLab's Assignment List or
``nbgrader fetch_assignment`` / ``nbgrader submit``); the instructor collects, autogrades, writes feedback and releases
it; students fetch their feedback. Every step here is one ``nbgrader`` program, run the way a person would run it.

Instructor steps (run in the course run directory, default ``run/course/``, git-ignored)::

    python -m autograder.exchange init                         copy nbgrader_config.py and source/ into the course dir
    python -m autograder.exchange release 01_chain_rule        generate_assignment + due date + release_assignment
    python -m autograder.exchange collect 01_chain_rule        collect the latest submission of every student
    python -m autograder.exchange autograde 01_chain_rule      autograde in parallel, print grades, write grades.csv
    python -m autograder.exchange feedback 01_chain_rule       generate_feedback (hidden tests stripped)
    python -m autograder.exchange release-feedback 01_chain_rule

Students on one machine (the demo; on a real server students use JupyterLab or ``nbgrader`` themselves)::

    python -m autograder.exchange student ada fetch|submit|fetch-feedback|list 01_chain_rule

    python -m autograder.exchange demo [ASSIGNMENT ...]        the whole round trip with two students, ada and ben

Options common to every step: ``--course DIR`` (default run/course) and ``--exchange DIR`` (default: what
nbgrader_config.py says, i.e. $BACKPROP_EXCHANGE or ``<course>/exchange``). See docs/exchange.md.

The late-submission policy lives here too (:class:`LatePenalty`), as does the due-date table
(:class:`CourseSchedule`, set in nbgrader_config.py and written to the gradebook before releasing and grading).
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Dict, Float
from traitlets.config import Configurable

from . import nbg

COURSE_DIR = nbg.ROOT / "run" / "course"
HOMES_DIR = nbg.ROOT / "run" / "homes"
EXCHANGE_ENV = "BACKPROP_EXCHANGE"


# --------------------------------------------------------------------------------------------------------------------
# Policy: due dates and the late penalty (configured in nbgrader_config.py)

class CourseSchedule(Configurable):
    """Due dates, one per assignment: ``c.CourseSchedule.due_dates = {"01_chain_rule": "2027-02-01 23:59:00 UTC"}``.

    nbgrader keeps due dates in its gradebook only; ``release`` and ``autograde`` below copy this table there first, so
    the config is the one place an instructor sets them. An assignment missing from the table has no due date."""
    due_dates = Dict(help="assignment -> due date, e.g. '2027-02-01 23:59:00 UTC'").tag(config=True)


class LatePenalty(LateSubmissionPlugin):
    """Late work loses ``percent_per_day`` percent of its score for every started day (24 h) past the due date.

    With the default 10 %: one minute to 24 h late keeps 90 % of the score, 24-48 h late keeps 80 %, and so on; ten
    or more days late scores zero. Extensions granted in the gradebook move the due date for one student."""
    percent_per_day = Float(10.0, help="percent of the score lost per started day late").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        if total_seconds_late <= 0 or not score:
            return None
        days = math.ceil(total_seconds_late / 86400)
        penalty = min(score, round(score * self.percent_per_day / 100 * days, 4))
        self.log.info("%s is %d day(s) late: penalty %s of %s", student_id, days, penalty, score)
        return penalty


# --------------------------------------------------------------------------------------------------------------------
# The instructor's course run directory

def load_config(course: Path):
    """The traitlets Config that nbgrader itself would load from ``course/nbgrader_config.py``."""
    from traitlets.config.loader import PyFileConfigLoader
    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


@dataclass
class Course:
    """An nbgrader course directory with its gradebook (``gradebook.db`` inside it, never in the repo)."""
    dir: Path = COURSE_DIR
    exchange: Path | None = None       # None: whatever nbgrader_config.py says ($BACKPROP_EXCHANGE or <dir>/exchange)
    check_owner: bool = True           # collect warns when a submission's Unix owner is not the student

    def __post_init__(self):
        self.dir = Path(self.dir).resolve()
        if self.exchange is not None:
            self.exchange = Path(self.exchange).resolve()

    @property
    def db(self) -> Path:
        return self.dir / "gradebook.db"

    def config(self):
        return load_config(self.dir)

    @property
    def course_id(self) -> str:
        return str(self.config().CourseDirectory.course_id)

    @property
    def exchange_root(self) -> Path:
        if self.exchange is not None:
            return self.exchange
        return Path(str(self.config().Exchange.root)).resolve()

    def nbgrader(self, *args: str, timeout: float | None = 600, check: bool = True) -> nbg.Result:
        extra = [f"--Exchange.root={self.exchange}"] if self.exchange is not None else []
        return nbg.run([*args, *extra], cwd=self.dir, db=self.db, timeout=timeout, check=check)


def init(course: Course, root: Path = nbg.ROOT) -> Course:
    """Create or refresh the course run directory: nbgrader_config.py and source/ from the repo. The gradebook,
    submitted/, autograded/, feedback/ and the exchange stay as they are."""
    course.dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "nbgrader_config.py", course.dir / "nbgrader_config.py")
    shutil.copytree(root / "source", course.dir / "source", dirs_exist_ok=True)
    return course


def sync_due_dates(course: Course, assignments: list[str]) -> dict[str, str | None]:
    """Write the config's due dates (``c.CourseSchedule.due_dates``) into the gradebook; returns what was set."""
    from nbgrader.api import Gradebook
    cfg = course.config()
    table = dict(cfg.CourseSchedule.due_dates) if "CourseSchedule" in cfg else {}
    done = {}
    with Gradebook(f"sqlite:///{course.db}", course.course_id) as gb:
        for a in assignments:
            due = table.get(a)
            gb.update_or_create_assignment(a, duedate=due)
            done[a] = due
    return done


def release(course: Course, assignments: list[str], log=print) -> None:
    """``nbgrader generate_assignment`` (which also records the assignment in the gradebook), the due date, and
    ``nbgrader release_assignment``: the student version goes to <exchange>/<course_id>/outbound/<assignment>/."""
    for a in assignments:
        course.nbgrader("generate_assignment", a, "--force")
        due = sync_due_dates(course, [a])[a]
        course.nbgrader("release_assignment", a, "--force")
        log(f"released {a} to {course.exchange_root / course.course_id / 'outbound' / a}"
            f" (due: {due or 'no due date'})")


def collect(course: Course, assignments: list[str], log=print) -> None:
    """``nbgrader collect --update``: each student's latest submission goes to submitted/<student>/<assignment>/."""
    for a in assignments:
        args = ["collect", a, "--update"]
        if not course.check_owner:
            args.append("--CollectApp.check_owner=False")
        course.nbgrader(*args)
        sub = course.dir / "submitted"
        n = sum(1 for p in sub.glob(f"*/{a}") if p.is_dir()) if sub.exists() else 0
        log(f"collected {a}: {n} student(s) in {sub}")


def students_of(course: Course, assignment: str) -> list[str]:
    sub = course.dir / "submitted"
    return sorted(p.name for p in sub.iterdir() if (p / assignment).is_dir()) if sub.exists() else []


def autograde(course: Course, assignments: list[str], jobs: int | None = None, limits=None, log=print) -> list:
    """Autograde every collected submission (in parallel on the grading CLI's long-lived nbgrader workers), with the
    config's due dates and late penalty; write grades.csv; return grade.Outcome objects (score net of the penalty)."""
    from nbgrader.api import Gradebook

    from . import grade
    sync_due_dates(course, assignments)
    tasks = [(a, s) for a in assignments for s in students_of(course, a)]
    # the same parallel, sandboxed, judged grading as `python -m autograder grade` (the judge caps nbgrader's scores)
    outcomes = grade.autograde_many(course.dir, tasks, jobs, limits, log, progress=False)
    plugin = _late_plugin(course)
    with Gradebook(f"sqlite:///{course.db}", course.course_id) as gb:
        for o in outcomes:
            if o.status != "graded":
                continue
            sub = gb.find_submission(o.assignment, o.student)
            if sub.total_seconds_late > 0:
                # nbgrader set the penalty from its own scores; the judge may have lowered them since: recompute.
                for nb in sub.notebooks:
                    p = plugin.late_submission_penalty(o.student, nb.score, sub.total_seconds_late)
                    nb.late_submission_penalty = None if p is None else max(0.0, min(float(p), nb.score))
                gb.db.commit()
                gb.db.expire(sub)
            penalty = float(sub.late_submission_penalty or 0)
            o.late_penalty = penalty
            if sub.total_seconds_late > 0:
                hours = sub.total_seconds_late / 3600
                note = f"late by {hours:.2f} h: -{penalty:g} point(s) from {o.score:g}"
                o.reason = f"{o.reason}; {note}" if o.reason else note
                o.score = max(0.0, o.score - penalty)
    course.nbgrader("export", f"--to={course.dir / 'grades.csv'}")
    outcomes.sort(key=lambda o: (o.assignment, o.student))
    log(grade.table(outcomes))
    return outcomes


def _late_plugin(course: Course):
    """The late-penalty plugin nbgrader_config.py configures (nbgrader's no-penalty default when it names none)."""
    from traitlets.utils.importstring import import_item
    cfg = course.config()
    cls = cfg.AssignLatePenalties.get("plugin_class", LateSubmissionPlugin) if "AssignLatePenalties" in cfg \
        else LateSubmissionPlugin
    cls = import_item(cls) if isinstance(cls, str) else cls
    return cls(config=cfg)


def generate_feedback(course: Course, assignments: list[str], log=print) -> None:
    """``nbgrader generate_feedback``: feedback/<student>/<assignment>/<notebook>.html, hidden tests stripped."""
    for a in assignments:
        course.nbgrader("generate_feedback", a, "--force")
        log(f"feedback for {a} in {course.dir / 'feedback'}")


def release_feedback(course: Course, assignments: list[str], log=print) -> None:
    """``nbgrader release_feedback``: each student's HTML goes to <exchange>/<course_id>/feedback/<hash>.html, where
    the hash comes from the secret of that student's submission (only the student's own cache holds it)."""
    for a in assignments:
        course.nbgrader("release_feedback", a)
        log(f"released feedback for {a} to {course.exchange_root / course.course_id / 'feedback'}")


# --------------------------------------------------------------------------------------------------------------------
# Students: each one a separate nbgrader process with its own HOME and Jupyter config/data dirs

STUDENT_CONFIG = '''\
# nbgrader settings of one student of {course_id} (written by autograder/exchange.py; see docs/exchange.md).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {root!r}
c.Exchange.path_includes_course = True
'''
SHARED_ACCOUNT = '''\
# All students share one Unix account here (a demo or a test): say who submits. Not needed when each student logs
# in as themselves (JupyterHub, or real accounts): nbgrader then takes the Unix user name.
c.CourseDirectory.student_id = {student!r}
'''


def can_switch_uid() -> bool:
    """Running as root with setpriv: student processes can run under their own numeric uid."""
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("setpriv") is not None


@dataclass
class Student:
    """A student with a home directory, ``~/.jupyter/nbgrader_config.py`` and ``~/.local/share/jupyter``.

    ``uid``: when set (needs root), every process of this student runs under that numeric uid and gid, so the exchange's
    Unix permissions apply to it as they would to a real account; the home is then owned by that uid, mode 0700."""
    name: str
    home: Path
    course_id: str
    exchange: Path
    uid: int | None = None
    shared_account: bool = True
    log: list = field(default_factory=list)

    def __post_init__(self):
        self.home = Path(self.home).resolve()
        self.exchange = Path(self.exchange).resolve()

    @property
    def config_dir(self) -> Path:
        return self.home / ".jupyter"

    @property
    def data_dir(self) -> Path:
        return self.home / ".local" / "share" / "jupyter"

    def setup(self) -> "Student":
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        text = STUDENT_CONFIG.format(course_id=self.course_id, root=str(self.exchange))
        if self.shared_account:
            text += SHARED_ACCOUNT.format(student=self.name)
        (self.config_dir / "nbgrader_config.py").write_text(text)
        if self.uid is not None:
            for p in [self.home, *self.home.rglob("*")]:
                os.chown(p, self.uid, self.uid)
            self.home.chmod(0o700)
        return self

    def env(self) -> dict:
        return nbg.env({"HOME": str(self.home), "USER": self.name, "LOGNAME": self.name,
                        "JUPYTER_CONFIG_DIR": str(self.config_dir), "JUPYTER_DATA_DIR": str(self.data_dir),
                        "JUPYTER_RUNTIME_DIR": str(self.data_dir / "runtime"),
                        "JUPYTER_CONFIG_PATH": "", "JUPYTER_PATH": "", "IPYTHONDIR": str(self.home / ".ipython")})

    def command(self, argv: list[str]) -> list[str]:
        if self.uid is None:
            return argv
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "--", *argv]

    def run(self, argv: list[str], timeout: float = 300, check: bool = True) -> nbg.Result:
        """Run a program as this student, in their home directory."""
        proc = subprocess.run(self.command(argv), cwd=self.home, env=self.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
        res = nbg.Result(proc.returncode, proc.stdout)
        self.log.append((argv, res))
        if check and res.returncode != 0:
            raise RuntimeError(f"{self.name}: {' '.join(argv)} failed (exit {res.returncode}):\n{res.output[-3000:]}")
        return res

    def nbgrader(self, *args: str, check: bool = True) -> nbg.Result:
        return self.run([str(nbg.BIN / "nbgrader"), *args], check=check)

    def fetch(self, assignment: str) -> Path:
        self.nbgrader("fetch_assignment", assignment)
        return self.notebook(assignment)

    def submit(self, assignment: str) -> nbg.Result:
        res = self.nbgrader("submit", assignment)
        time.sleep(0.01)  # two submissions never share a timestamp (microseconds, but be sure)
        return res

    def fetch_feedback(self, assignment: str) -> list[Path]:
        self.nbgrader("fetch_feedback", assignment)
        return self.feedback(assignment)

    def list(self) -> str:
        return self.nbgrader("list").output

    def folder(self, assignment: str) -> Path:
        return self.home / self.course_id / assignment     # Exchange.path_includes_course = True

    def notebook(self, assignment: str) -> Path:
        return self.folder(assignment) / f"{assignment}.ipynb"

    def feedback(self, assignment: str) -> list[Path]:
        """Fetched feedback: <assignment>/feedback/<submission timestamp>/<notebook>.html."""
        return sorted((self.folder(assignment) / "feedback").glob("*/*.html"))


def student(course: Course, name: str, homes: Path = HOMES_DIR, uid: int | None = None) -> Student:
    return Student(name, Path(homes) / name, course.course_id, course.exchange_root, uid=uid,
                   shared_account=True).setup()


# --------------------------------------------------------------------------------------------------------------------
# The demo: the whole round trip on one machine

def demo(assignments: list[str], base: Path = nbg.ROOT / "run" / "exchange-demo", log=print) -> int:
    """ada submits correct work, ben a typical bug (after a first, blank submission: the later one counts). Both
    fetch their feedback. Everything lives in ``base`` (replaced), the exchange in ``base/course/exchange``."""
    import nbformat

    from .variants import blank, checks_module, fill
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


# --------------------------------------------------------------------------------------------------------------------
# Command line

def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder.exchange", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--course", type=Path, default=COURSE_DIR, help="course run directory (default run/course)")
    p.add_argument("--exchange", type=Path, default=None,
                   help=f"exchange root (default: nbgrader_config.py: ${EXCHANGE_ENV} or <course>/exchange)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init", help="create/refresh the course dir from the repo (config and source/)")
    for name, text in [("release", "generate_assignment + due date + release_assignment"),
                       ("collect", "collect the latest submissions"),
                       ("autograde", "autograde the collected submissions, print grades, write grades.csv"),
                       ("feedback", "generate_feedback"),
                       ("release-feedback", "release_feedback")]:
        sp = sub.add_parser(name, help=text)
        sp.add_argument("assignments", nargs="*", help="default: every assignment in source/")
        if name == "autograde":
            sp.add_argument("--jobs", type=int, default=None)
        if name == "collect":
            sp.add_argument("--no-check-owner", action="store_true",
                            help="all students share one Unix account: skip the owner cross-check warning")
        if name == "release":
            sp.add_argument("--no-refresh", action="store_true", help="do not copy config and source/ from the repo")
    st = sub.add_parser("student", help="act as a student on this machine (a demo; real students use JupyterLab)")
    st.add_argument("name")
    st.add_argument("action", choices=["fetch", "submit", "fetch-feedback", "list"])
    st.add_argument("assignment", nargs="?")
    st.add_argument("--homes", type=Path, default=HOMES_DIR, help="students' home directories (default run/homes)")
    dm = sub.add_parser("demo", help="the whole round trip with two students in run/exchange-demo/")
    dm.add_argument("assignments", nargs="*")
    args = p.parse_args(argv)

    if args.cmd == "demo":
        return demo(args.assignments or nbg.assignments())
    course = Course(args.course, exchange=args.exchange)
    if args.cmd == "init" or (args.cmd == "release" and not args.no_refresh):
        init(course)
        print(f"course dir: {course.dir}  (exchange: {course.exchange_root})")
        if args.cmd == "init":
            return 0
    if not (course.dir / "nbgrader_config.py").exists():
        print(f"{course.dir} is not a course directory: run `python -m autograder.exchange init` first",
              file=sys.stderr)
        return 2
    if args.cmd == "student":
        s = student(course, args.name, homes=args.homes)
        if args.action != "list" and not args.assignment:
            p.error(f"student {args.action} needs an assignment")
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
    if args.cmd == "release":
        release(course, names)
    elif args.cmd == "collect":
        course.check_owner = not args.no_check_owner
        collect(course, names)
    elif args.cmd == "autograde":
        outcomes = autograde(course, names, jobs=args.jobs)
        print(f"\nGrades: {course.dir / 'grades.csv'}")
        return 0 if all(o.status == "graded" for o in outcomes) else 1
    elif args.cmd == "feedback":
        generate_feedback(course, names)
    elif args.cmd == "release-feedback":
        release_feedback(course, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
