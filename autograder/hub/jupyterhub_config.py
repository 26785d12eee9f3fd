"""The JupyterHub config of the demo hub: loaded by ``jupyterhub -f``, it reads every path, user and port from the
settings.json that ``python -m autograder hub`` wrote (``$BPFS_HUB_SETTINGS``).

One course, nbgrader's "one class, multiple graders" set-up: the formgrader is a hub-managed service run as the grader
account from the hub venv on the course directory; the groups formgrade-<course> (instructor, TA) and
nbgrader-<course> (students); a role grants formgrade-<course> ``access:services!service=<course>``. Students' servers
run as their own Unix users from the student venv, which has no ``autograder``.
"""
import ctypes
import json
import os

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import List, Unicode

s = json.load(open(os.environ["BPFS_HUB_SETTINGS"]))
c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)
cid, state = s["course_id"], s["state"]

# -- network: 127.0.0.1 only, the ports chosen by the runner
c.JupyterHub.bind_url = f"http://127.0.0.1:{s['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s['proxy_api_port']}"
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{os.path.join(state, 'jupyterhub.sqlite')}"
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")

# -- DEMO ONLY: one shared password for every login (docs/hub.md: the campus login instead)
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = s["password"]
c.Authenticator.allowed_users = set(s["student_users"]) | {s["instructor"], s["ta"]}
c.Authenticator.admin_users = {s["instructor"]}

# -- the course's groups and the role that opens the formgrader service to its graders
c.JupyterHub.load_groups = {
    f"formgrade-{cid}": {"users": [s["instructor"], s["ta"]]},
    f"nbgrader-{cid}": {"users": list(s["student_users"])},
}
c.JupyterHub.load_roles = [
    {"name": f"formgrade-{cid}", "groups": [f"formgrade-{cid}"], "scopes": [f"access:services!service={cid}"]},
]

# -- the formgrader: a managed service, the grader account's JupyterLab on the course directory
hub_bin = os.path.join(s["hub_env"], "bin")
c.JupyterHub.services = [{
    "name": cid,
    "url": f"http://127.0.0.1:{s['service_port']}",
    "command": [os.path.join(hub_bin, "jupyterhub-singleuser"), f"--ServerApp.root_dir={s['course_dir']}"],
    "user": s["grader"],
    "cwd": s["course_dir"],
    "environment": {"PATH": f"{hub_bin}:/usr/local/bin:/usr/bin:/bin", "BACKPROP_EXCHANGE": s["exchange"],
                    "JUPYTERHUB_DEFAULT_URL": "/lab"},
    "oauth_no_confirm": True,
}]

# -- idle servers stopped (300 students on one machine): jupyterhub-idle-culler as a service with only the scopes it
# needs. Stopping a server ends its kernels; what the student saved stays in their home.
if s.get("cull_idle", 0) > 0:
    c.JupyterHub.services.append({
        "name": "idle-culler",
        "command": [os.path.join(hub_bin, "python"), "-m", "jupyterhub_idle_culler", f"--timeout={s['cull_idle']}",
                    f"--cull-every={max(60, s['cull_idle'] // 6)}"],
    })
    c.JupyterHub.load_roles.append({"name": "idle-culler", "services": ["idle-culler"],
                                    "scopes": ["list:users", "read:users:activity", "read:servers",
                                               "delete:servers"]})

# -- every user's own server: their Unix account, their home, the student venv (no grader in it)
MS_REC, MS_PRIVATE, MS_RDONLY, MS_NOSUID, MS_NODEV, CLONE_NEWNS = 0x4000, 0x40000, 1, 2, 4, 0x20000


def _hide(paths):
    """In the child, before it drops root: a private mount namespace with an empty read-only tmpfs over each path
    (e.g. other checkouts of the course on this machine) and a private /tmp. Fails closed: no server if a mount
    fails."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "cannot make a private mount namespace")
    for p in paths:
        if os.path.isdir(p) and libc.mount(b"tmpfs", p.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                                           b"mode=0555,size=16k") != 0:
            raise OSError(ctypes.get_errno(), f"cannot hide {p}")
    # A private /tmp (as systemd's PrivateTmp): other people's scratch copies of the course there stay out of reach.
    if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=1777,size=512m") != 0:
        raise OSError(ctypes.get_errno(), "cannot give the server a private /tmp")


class CourseSpawner(LocalProcessSpawner):
    """LocalProcessSpawner that hides ``hide`` (directories) from the user's server and kernels."""
    hide = List(Unicode(), config=True)

    def make_preexec_fn(self, name):
        drop, hide = super().make_preexec_fn(name), list(self.hide)

        def preexec():
            if hide:
                _hide(hide)
            drop()
        return preexec


student_bin = os.path.join(s["student_env"], "bin")
c.JupyterHub.spawner_class = CourseSpawner
c.CourseSpawner.hide = list(s.get("hide", []))
c.Spawner.cmd = [os.path.join(student_bin, "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"PATH": f"{student_bin}:/usr/local/bin:/usr/bin:/bin"}
c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ"]   # not the hub's PATH or VIRTUAL_ENV
c.Spawner.start_timeout = 90
c.Spawner.http_timeout = 90
c.JupyterHub.cleanup_servers = True
c.JupyterHub.log_level = os.environ.get("BPFS_HUB_LOG_LEVEL", "INFO")
