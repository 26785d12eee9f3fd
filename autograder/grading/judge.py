"""The judge: a process that never runs student code in its own interpreter, and decides every hidden test.

    python -m autograder.grading.judge --socket PATH

During ``python -m autograder grade`` each grading worker has its own judge, which serves one submission at a time.
The student's kernel inherits the socket path in ``BACKPROP_JUDGE``. When a hidden test cell calls
``nbNN.check_x(student_fn)``, the kernel only connects and sends the check's name and its arguments; student functions
travel as handles. The judge runs the real check here: it draws the random case, calls the student's function through
the socket (the kernel runs it and sends the result back as plain data), computes the reference, compares, and
records the verdict. Patching numpy, builtins, the exception hooks or the check modules inside the kernel changes
nothing here.

When the grading process writes ``ledger`` on the judge's stdin (after each submission, and before the next), the
judge prints the verdicts since the last request to stdout as JSON lines, one per check run, then ``END OF LEDGER``,
and starts a new ledger; on exit (SIGTERM or end of input) it prints what is left. The ledger only ever travels through
these pipes: it is never a file the kernel could write, and the kernel has no way to ask for or reset it.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from ..protocol.wire import Endpoint, ProtocolError
from . import nbg
from .procs import LineReader, close_quietly, drain

_CHECK = re.compile(r"^nb\d\d\.check_\w+$")
END = "END OF LEDGER"
LEDGER: list[dict] = []


def run_check(endpoint: Endpoint, name: str, args: list) -> tuple[bool, str]:
    """Run the named check on decoded arguments (student functions arrive as RemoteFunction proxies)."""
    if not _CHECK.match(name):
        return False, f"unknown check {name!r}"
    module_name, func_name = name.split(".")
    try:
        module = importlib.import_module(f"autograder.checks.{module_name}")
        check = getattr(module, func_name)
    except (ImportError, AttributeError):
        return False, f"unknown check {name!r}"
    check = getattr(check, "__wrapped__", check)  # the check itself, not its routing wrapper
    try:
        check(*args)
        return True, ""
    except AssertionError as e:
        return False, str(e)
    except ProtocolError:
        raise
    except Exception as e:  # the check could not finish: that is a failure, with its reason
        return False, f"the check could not run: {type(e).__name__}: {e}"


def serve(conn: socket.socket) -> None:
    endpoint = Endpoint(conn)
    t0 = time.perf_counter()
    name = "?"
    try:
        msg = endpoint.serve_until_answer()
        if not isinstance(msg, dict) or msg.get("op") != "check":
            raise ProtocolError("expected a check request")
        name = str(msg.get("name", "?"))
        args = endpoint.decode(msg.get("args", []))
        ok, message = run_check(endpoint, name, args if isinstance(args, list) else [])
        endpoint.send({"op": "verdict", "ok": ok, "message": message})
    except (ProtocolError, OSError, ValueError) as e:
        ok, message = False, f"the connection to the kernel failed: {e}"
    LEDGER.append({"check": name, "ok": ok, "message": message[:500], "seconds": round(time.perf_counter() - t0, 4)})


def dump(out=None) -> None:
    """Write the ledger so far as JSON lines, then END, and start a new one."""
    out = out or sys.stdout
    for entry in LEDGER:
        out.write(json.dumps(entry) + "\n")
    out.write(END + "\n")
    out.flush()
    LEDGER.clear()


def dump_and_exit(*_):
    dump()
    os._exit(0)


def main(argv=None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, dump_and_exit)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(args.socket)
    os.chmod(args.socket, 0o666)  # the kernel may run as another, unprivileged user
    server.listen(4)
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    sys.stderr.write("judge ready\n")
    sys.stderr.flush()
    while True:
        for key, _ in sel.select():
            if key.fileobj is server:
                conn, _ = server.accept()
                with conn:
                    serve(conn)
            else:
                # The grading process's control channel (never reachable from the kernel): "ledger" asks for the
                # verdicts since the last request; they come only between two checks, never in the middle of one.
                line = sys.stdin.readline()
                if not line:
                    dump_and_exit()
                if line.strip() == "ledger":
                    dump()


# ------------------------------------------------------------------------------------------------------------------
# The grader's side: one judge process per worker

class Judge:
    """A judge process (autograder/grading/judge.py) for one worker, serving one submission at a time on its unix socket.

    ``ledger()`` asks it (over its stdin, which no kernel can reach) for the verdicts since the last request: called
    before a submission (whatever is there is dropped) and after it (that submission's verdicts). Starting a judge
    costs a Python start and the checks' imports, so it lives as long as its worker; a judge that died or did not
    answer is replaced, and that submission's ledger is None (the caller reports it, never guesses)."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.dir = ""
        self.address = ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "Judge":
        self.dir = tempfile.mkdtemp(prefix="bpfs-judge-")
        self.address = os.path.join(self.dir, "judge.sock")
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.grading.judge", "--socket", self.address],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=nbg.ROOT, env=nbg.env(), text=True, bufsize=1)
        self.reader = LineReader(self.proc.stdout.fileno())
        ready = self.proc.stderr.readline()
        if "judge ready" not in ready:
            self.stop()
            raise RuntimeError(f"the judge did not start: {ready!r}")
        threading.Thread(target=drain, args=(self.proc.stderr, None), daemon=True).start()
        return self

    def ensure(self) -> "Judge":
        if not self.alive():
            self.stop()
            self.start()
        return self

    def ledger(self, timeout: float = 60) -> list[dict] | None:
        """The verdicts since the last call, or None when the judge does not answer (it is then replaced)."""
        entries: list[dict] = []
        try:
            self.proc.stdin.write("ledger\n")
            self.proc.stdin.flush()
            deadline = time.monotonic() + timeout
            while True:
                line = self.reader.readline(max(0.0, deadline - time.monotonic()))
                if not line:
                    raise TimeoutError("the judge did not answer")
                if line.strip() == "END OF LEDGER":
                    return entries
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        except (OSError, ValueError, TimeoutError):
            self.stop()
            return None

    def stop(self) -> None:
        if self.proc is not None:
            close_quietly(self.proc.stdin)   # end of input: the judge exits
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            close_quietly(self.proc.stdout, self.proc.stderr)
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""


if __name__ == "__main__":
    main()
