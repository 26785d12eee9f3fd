"""A throwaway PostgreSQL server for the tests: the machine's ``initdb``/``pg_ctl`` when present (run as ``nobody``
when the tests run as root, since initdb refuses root), else the ``pgserver`` wheel (a PostgreSQL inside a Python
package, from the ``cluster`` extra). Data in a temporary directory, listening on 127.0.0.1 on a free port and on a
unix socket in that directory; stopped and removed at the end. ``start()`` returns a server or a reason why not."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Binaries:
    """initdb + pg_ctl from PATH, in a directory owned by the user the server runs as."""

    how = "the machine's initdb/pg_ctl"

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="bpfs-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            os.chown(self.dir, 65534, 65534)
        run = lambda *cmd: subprocess.run([*self.as_user, *cmd], check=True, capture_output=True, text=True)
        run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-t", "60", "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        self.base = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}"

    def stop(self) -> None:
        subprocess.run([*self.as_user, "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class Wheel:
    """The pgserver wheel (it handles running as root itself)."""

    how = "the pgserver wheel"

    def __init__(self):
        import pgserver

        self.dir = Path(tempfile.mkdtemp(prefix="bpfs-pgserver-"))
        self.server = pgserver.get_server(self.dir, cleanup_mode="stop")
        uri = self.server.get_uri()   # postgresql://postgres:@/postgres?host=<socket dir>
        self.base = uri.replace("postgresql://", "postgresql+psycopg2://").rsplit("/postgres", 1)[0]
        self.query = uri.split("?", 1)[1] if "?" in uri else ""

    def stop(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)


def start():
    """(server, '') or (None, why no PostgreSQL can be had here)."""
    reasons = []
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        try:
            return Binaries(), ""
        except (subprocess.CalledProcessError, OSError) as e:
            reasons.append(f"initdb/pg_ctl failed: {getattr(e, 'stderr', '') or e}")
    else:
        reasons.append("no initdb/pg_ctl on PATH")
    try:
        return Wheel(), ""
    except Exception as e:  # noqa: BLE001  (ImportError, or a wheel that does not run here)
        reasons.append(f"pgserver: {type(e).__name__}: {e}")
    return None, "; ".join(reasons)


def create_database(server, name: str) -> str:
    """A new database on ``server``; returns its SQLAlchemy URL."""
    import sqlalchemy

    query = getattr(server, "query", "")
    admin = sqlalchemy.create_engine(f"{server.base}/postgres" + (f"?{query}" if query else ""),
                                     isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server.base}/{name}" + (f"?{query}" if query else "")
