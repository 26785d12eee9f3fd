"""Starting and stopping a JupyterLab server for the browser tests: one copy, used by conftest.py (the instructor's
course copy) and exchange_fixtures.py (a student's home). A module of its own, since two conftest.py files cannot
import each other."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def quiet_settings(settings_dir: Path) -> None:
    """The news popup ("Would you like to receive official Jupyter news?") would cover the bottom-right corner."""
    notif = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True, exist_ok=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


class Lab:
    """The interface conftest.py's ``page`` fixture and failure hook use: url, token, root, api(), lab_url(),
    log_tail()."""

    def __init__(self, url: str, token: str, root: Path, log: Path, proc: subprocess.Popen):
        self.url, self.token, self.root, self.log, self.proc = url, token, root, log, proc

    def api(self, path: str, method: str = "GET", data: dict | None = None, timeout: float = 10):
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     data=None if data is None else json.dumps(data).encode(),
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def lab_url(self, path: str, workspace: str) -> str:
        tree = f"/tree/{path}" if path else ""
        return f"{self.url}/lab/workspaces/{workspace}{tree}?reset&token={self.token}"

    def files_url(self, path: str) -> str:
        """A file as the server serves it (JupyterLab's "Open in New Browser Tab")."""
        return f"{self.url}/files/{path}?token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"


def start_lab(root: Path, env: dict, token: str, port: int, log_path: Path, timeout: float = 90.0,
              who: str = "JupyterLab") -> Lab | None:
    """Start JupyterLab and wait until its API answers; None when the port was taken meanwhile."""
    cmd = [str(VENV_BIN / "jupyter"), "lab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(log_path, "w") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, root, log_path, proc)
    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            if "already in use" in server.log_tail(200):
                return None
            pytest.fail(f"{who} exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            server.api("/api/status", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() - t0 > timeout:
                stop(server)
                pytest.fail(f"{who} did not answer within {timeout:.0f} s:\n{server.log_tail()}")
            time.sleep(0.2)
    print(f"\n[browser] {who} ready in {time.monotonic() - t0:.1f} s at {server.url} (root {root})")
    return server


def stop(server: Lab) -> None:
    try:
        server.api("/api/shutdown", method="POST", timeout=10)
    except Exception:  # noqa: BLE001 - the fallback below handles every way the request can fail
        pass
    try:
        server.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.proc.kill()  # our own child only (by its pid)
        server.proc.wait(timeout=10)


# ---------------------------------------------------------------------------------------------- chromium


def serve(root: Path, env: dict, token: str, log_dir: Path, who: str = "JupyterLab", log_name: str = "jupyterlab"):
    """Start a server (port_retries=0 makes a port clash fail loudly: then another free port, 3 attempts)."""
    for attempt in range(3):
        server = start_lab(root, env, token, free_port(), log_dir / f"{log_name}-{attempt}.log", who=who)
        if server is not None:
            return server
    pytest.fail(f"{who} could not get a free port in 3 attempts")
