"""Starting the demo hub in the foreground: free ports on 127.0.0.1, wait until its login page answers, print the URL
and the demo logins, and stop it (and with it the proxy, the formgrader service and every user's server) on Ctrl-C."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from .layout import Hub

CONFIG = Path(__file__).with_name("jupyterhub_config.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pick_ports(hub: Hub, port: int | None = None) -> Hub:
    hub.port = port or free_port()
    hub.hub_port, hub.proxy_api_port, hub.service_port = free_port(), free_port(), free_port()
    return hub


class Running:
    """A started hub: its process, its log, and ``stop()``."""

    def __init__(self, hub: Hub, proc: subprocess.Popen, log: Path):
        self.hub, self.proc, self.log = hub, proc, log

    def log_tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM: JupyterHub stops the services, the user servers and the proxy it started, then exits."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


def start(hub: Hub, timeout: float = 90) -> Running:
    settings = hub.save()
    log = hub.state / "jupyterhub.log"
    env = {**os.environ, "BPFS_HUB_SETTINGS": str(settings),
           "PATH": f"{hub.hub_env / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    for k in ("VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "NBGRADER_EXECUTION"):
        env.pop(k, None)
    out = open(log, "ab")
    proc = subprocess.Popen([str(hub.hub_env / "bin" / "jupyterhub"), "-f", str(CONFIG)], cwd=hub.state, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    running = Running(hub, proc, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyterhub exited ({proc.returncode}):\n{running.log_tail()}")
        try:
            with urllib.request.urlopen(f"{hub.url}/hub/login", timeout=5) as r:
                if r.status == 200:
                    return running
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    running.stop()
    raise RuntimeError(f"jupyterhub did not answer on {hub.url} within {timeout:.0f} s:\n{running.log_tail()}")


def banner(hub: Hub) -> str:
    who = [("instructor", hub.instructor), ("TA", hub.ta)] + [("student", u) for u in hub.student_users]
    lines = [f"JupyterHub for {hub.course_id}: {hub.url}/hub/login",
             f"  formgrader (instructor and TA only): {hub.url}{hub.service_prefix}formgrader",
             f"  DEMO logins (demo only, every password is {hub.password!r}):"]
    lines += [f"    {role:<10} {name}" for role, name in who]
    lines += [f"  data: {hub.root} (gradebook: {hub.course_dir / 'gradebook.db'}, exchange: {hub.exchange})",
              "  Ctrl-C stops the hub, the formgrader and every user's server."]
    return "\n".join(lines)


def serve_forever(hub: Hub) -> int:
    running = start(hub)
    print(banner(hub), flush=True)
    try:
        while running.proc.poll() is None:
            time.sleep(0.5)
        print(running.log_tail())
        return running.proc.returncode or 1
    except KeyboardInterrupt:
        print("\nstopping the hub ...", flush=True)
        rc = running.stop()
        print(f"stopped (jupyterhub exit code {rc})")
        return 0
