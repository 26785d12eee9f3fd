"""Students of the exchange round trip on one machine: each one a separate nbgrader process with its own HOME and
Jupyter config and data directories (and, as root, their own uid), for the demo and the tests. On a real server
students are real accounts and use JupyterLab's Assignment List."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import nbg
from .exchange import Course

HOMES_DIR = nbg.ROOT / "run" / "homes"


STUDENT_CONFIG = '''\
# nbgrader settings of one student of {course_id} (written by autograder/grading/students.py; see docs/exchange.md).
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
