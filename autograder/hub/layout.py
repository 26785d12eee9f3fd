"""Where the demo hub keeps everything and who its users are: one ``Hub`` record, saved as settings.json for
jupyterhub_config.py to read."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

COURSE_ID = "backprop-from-scratch"
#: The demo's one password for every login. Demo only: docs/hub.md says how to use the campus login instead.
DEMO_PASSWORD = "backprop-demo"


@dataclass
class Hub:
    """Data under ``root`` (state, homes, exchange); the two venvs under ``envs``, shared by every hub on the machine.

    Users are system accounts named ``<prefix><name>``: the instructor, the TA, the students, and the grader account
    that runs the formgrader service.
    """
    root: Path = Path("/srv/bpfs-hub")
    envs: Path = Path("/opt/bpfs-hub")
    prefix: str = "bpfs-hub-"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    service_port: int = 8082
    password: str = DEMO_PASSWORD
    students: list[str] = field(default_factory=lambda: ["ada", "ben", "cy"])
    course_id: str = COURSE_ID
    #: directories hidden from every user's server and kernels (an empty tmpfs over each), e.g. the folder holding
    #: checkouts of this course; the hub's own files are protected by their modes
    hide: list[str] = field(default_factory=list)
    #: seconds a user's server may sit idle before jupyterhub-idle-culler stops it (0: never); saved work stays
    cull_idle: int = 3600

    def __post_init__(self):
        self.root, self.envs = Path(self.root), Path(self.envs)

    # -- who
    def user(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @property
    def instructor(self) -> str:
        return self.user("prof")

    @property
    def ta(self) -> str:
        return self.user("ta")

    @property
    def grader(self) -> str:
        return self.user("grader")

    @property
    def student_users(self) -> list[str]:
        return [self.user(s) for s in self.students]

    @property
    def people(self) -> list[str]:
        """Everyone who logs in (not the grader account, which only runs the service)."""
        return [self.instructor, self.ta, *self.student_users]

    #: the Unix group that may read the hub venv (where ``autograder`` is installed): the grader account only
    graders_group = "bpfs-hub-graders"

    # -- where
    @property
    def state(self) -> Path:
        return self.root / "state"          # root only: jupyterhub.sqlite, cookie secret, settings.json, logs

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"       # mode 0777, as nbgrader wants

    def home(self, user: str) -> Path:
        return self.root / "homes" / user   # mode 0700 each

    @property
    def course_dir(self) -> Path:
        return self.home(self.grader) / "course"   # what the formgrader serves: nbgrader_config.py, source/, gradebook

    @property
    def hub_env(self) -> Path:
        return self.envs / "hub-venv"       # jupyterhub, the proxy, nbgrader and the course's grader; root:graders 0750

    @property
    def student_env(self) -> Path:
        return self.envs / "student-venv"   # jupyterhub-singleuser, jupyterlab, nbgrader's extensions, course/; 0755

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def service_prefix(self) -> str:
        return f"/services/{self.course_id}/"

    @property
    def settings_file(self) -> Path:
        return self.state / "settings.json"

    def save(self) -> Path:
        d = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        d.update(instructor=self.instructor, ta=self.ta, grader=self.grader, student_users=self.student_users,
                 state=str(self.state), exchange=str(self.exchange), course_dir=str(self.course_dir),
                 hub_env=str(self.hub_env), student_env=str(self.student_env),
                 homes={u: str(self.home(u)) for u in [*self.people, self.grader]})
        self.state.mkdir(parents=True, exist_ok=True)
        self.settings_file.write_text(json.dumps(d, indent=1))
        return self.settings_file

    @classmethod
    def load(cls, settings: Path) -> "Hub":
        d = json.loads(Path(settings).read_text())
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in keys})
