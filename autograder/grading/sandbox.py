"""Student kernels in a sandbox: an unprivileged user, a private view of the file system, and no network.

The grading CLI gives each submission a work directory W (owned by that worker's unprivileged user, mode 0700)
holding the judge's socket, the kernel's ipc sockets, its connection file and home, a kernelspec whose argv starts
``python -m autograder.grading.sandbox W/spec.json {connection_file}``, and a stub ``autograder`` package that can only
route hidden checks to the judge. This module, started as root by jupyter_client, then:

1. copies the connection file into W so the unprivileged kernel can read it;
2. enters new mount and network namespaces (``unshare``): no network interface is up, so student code has no
   network; the kernel talks to nbgrader over ipc (unix sockets in W), which needs none;
3. mounts empty tmpfs over what student code must not read: the repo's source/, solutions/, autograder/, tests/,
   run/ and .git/, the whole course copy (gradebook, source, other students), and the folders every user may write
   to (/tmp, /var/tmp, /dev/shm, /run/lock: nothing left there reaches the next kernel); then binds back only the
   kernel's own working directory (its copy of the submission) and W;
4. drops to the worker's user with ``setpriv`` (no groups, no new privileges) and starts ipykernel.

Everything here needs root and util-linux (unshare, setpriv, mount). ``available()`` says whether this machine has them;
without them grading still works, unisolated, and says so.
"""
from __future__ import annotations

import fcntl
import importlib.util
import itertools
import json
import os
import pwd
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

USER_PREFIX = "bpfs-kernel-"
#: Folders any user may write to: hidden (an empty tmpfs each), so a kernel leaves nothing there for the next one
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
STUB_MODULES = ("protocol/wire.py", "protocol/client.py")   # all of the grader a kernel gets


def available() -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, "not running as root"
    for tool in ("unshare", "setpriv", "mount", "useradd"):
        if not shutil.which(tool):
            return False, f"{tool} not found"
    probe = subprocess.run(["unshare", "--mount", "--net", "true"], capture_output=True)
    if probe.returncode != 0:
        return False, "namespaces are not permitted here"
    return True, ""


#: One lock file per sandbox user: a grading holds the lock of every user its workers use, for as long as it runs.
LOCK_DIR = Path("/run/lock/bpfs-sandbox")


@dataclass
class Claim:
    """Sandbox user ``slot`` held by this process alone on this machine (its lock file, flock'ed on ``fd``)."""
    slot: int
    uid: int
    gid: int
    fd: int

    def release(self) -> None:
        kill_user(self.uid)
        os.close(self.fd)   # the lock goes with it


def claim_user(lock_dir: Path = LOCK_DIR) -> Claim:
    """The first sandbox user that no other grading on this machine holds. Gradings at once (two classes, an exchange
    autograde, ``make demo``) therefore never share a user, and one's cleanup (``kill_user``) never reaches the
    other's kernels. The lock is an flock, so it dies with its process: after a grading was killed (kill -9), its
    users are free again, and whatever it left running under them is killed here before reuse."""
    lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for slot in itertools.count():
        fd = os.open(lock_dir / f"slot-{slot}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        uid, gid = worker_user(slot)
        kill_user(uid)
        return Claim(slot, uid, gid, fd)
    raise AssertionError("unreachable")


def worker_user(index: int) -> tuple[int, int]:
    """The unprivileged user of grading worker ``index``, created on first use (a system user, no home, no shell)."""
    name = f"{USER_PREFIX}{index}"
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
        pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


def kill_user(uid: int) -> int:
    """SIGKILL every process of the sandbox user ``uid`` (what a kernel may have left running); returns how many."""
    import signal

    killed = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
        except (OSError, ProcessLookupError):
            pass
    return killed


def seed_font_cache(dest: Path) -> None:
    """Copy the grader's matplotlib font list into the kernel's fresh MPLCONFIGDIR, so that every kernel does not
    rebuild it on its first plot import (about 0.1 s of CPU per submission). A copy: each kernel may rewrite its own."""
    src = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "matplotlib")
    found = sorted(Path(src).glob("fontlist-v*.json")) if os.path.isdir(src) else []
    if found:
        dest.mkdir(parents=True, exist_ok=True)
        for f in found:
            shutil.copy2(f, dest / f.name)


def write_stubs(stub_root: Path, check_modules: dict[str, list[str]], package_dir: Path) -> None:
    """A stand-in ``autograder`` package for the kernel: the wire and client modules, and for each checks module
    its check names, each a call to the judge. No reference code, no solutions."""
    pkg = stub_root / "autograder"
    for sub in ("checks", "protocol"):
        (pkg / sub).mkdir(parents=True, exist_ok=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text('"""Grading stub: hidden checks are decided by the judge process."""\n')
    for name in STUB_MODULES:
        shutil.copy2(package_dir / name, pkg / name)
    for module, names in check_modules.items():
        lines = ["from ..protocol.client import remote_only", ""]
        lines += [f"{n} = remote_only({f'{module}.{n}'!r})" for n in names]
        (pkg / "checks" / f"{module}.py").write_text("\n".join(lines) + "\n")


def prepare(work: Path, uid: int, gid: int, hide: list[str], check_modules: dict[str, list[str]]) -> dict:
    """Fill the work directory W and return the environment and nbgrader options that make kernels use it."""
    package_dir = Path(__file__).resolve().parent.parent   # autograder/
    write_stubs(work / "stub", check_modules, package_dir)
    (work / "home").mkdir(exist_ok=True)
    (work / "tmp").mkdir(exist_ok=True)   # the kernel's TMPDIR: the shared temp folders are hidden (SHARED_WRITABLE)
    seed_font_cache(work / "home" / ".mpl")
    spec = importlib.util.find_spec("course")
    # (a directory named course/ on sys.path would shadow the package as a namespace package with no origin)
    course_pkg = Path(spec.origin).parent if spec and spec.origin else package_dir.parent / "course"
    keep = sorted({sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent), str(course_pkg)})
    spec = {"uid": uid, "gid": gid, "work": str(work), "hide": hide + closed_ancestors(keep), "keep": keep,
            "python": sys.executable}
    (work / "spec.json").write_text(json.dumps(spec))
    kernel_dir = work / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True, exist_ok=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "autograder.grading.sandbox", str(work / "spec.json"), "{connection_file}"],
        "display_name": "Python 3 (sandboxed grading kernel)", "language": "python"}))
    for path in [work, *work.rglob("*")]:
        os.chown(path, uid, gid)
    os.chmod(work, 0o700)
    return {
        "env": {"JUPYTER_PATH": str(work / "jupyter")},
        "config": {"KernelManager.transport": "ipc", "KernelManager.ip": str(work / "kernel")},
    }


def closed_ancestors(paths: list[str]) -> list[str]:
    """The folders above kept paths that other users cannot enter (root's home, when Python lives there, as under
    pyenv): hidden like the rest, so that the kept path bound back inside is reachable, and the folder's other
    contents are not. Without it the kernel would find neither the grader's standard library nor its own."""
    out = set()
    for path in paths:
        for parent in Path(path).parents:
            try:
                if str(parent) != "/" and not os.stat(parent).st_mode & 0o001:
                    out.add(str(parent))
            except OSError:
                pass
    return sorted(out)


def mount_script(spec: dict, cwd: str) -> str:
    """The mounts, run as root inside the new namespaces: hide, then bind back what is kept.

    Kept (bound back after hiding, whatever they sit under, /tmp included): the kernel's own working directory, its
    work directory W, the venv and the base Python installation, and the ``course`` package the notebooks import.
    """
    q = shlex.quote
    keep = [cwd, spec["work"], *spec.get("keep", [])]
    lines = ["set -e", "mount -t tmpfs -o size=1m,mode=0700 tmpfs /mnt"]
    for i, path in enumerate(keep):
        lines += [f"mkdir -p /mnt/k{i}", f"mount --rbind {q(path)} /mnt/k{i}"]
    for path in spec["hide"] + list(SHARED_WRITABLE):
        lines.append(f"if [ -d {q(path)} ]; then mount -t tmpfs -o size=1m,mode=0755 tmpfs {q(path)}; fi")
    for i, path in enumerate(keep):
        lines += [f"mkdir -p {q(path)}", f"mount --rbind /mnt/k{i} {q(path)}"]
    # A hidden path inside a kept one (the grader installed non-editable in the venv it runs from: site-packages/
    # autograder) came back with that rebind: hide it again, then bring back what is kept inside it.
    nested = [h for h in spec["hide"] if any(_under(h, k) for k in keep)]
    for path in nested:
        lines.append(f"if [ -d {q(path)} ]; then mount -t tmpfs -o size=1m,mode=0755 tmpfs {q(path)}; fi")
    for i, path in enumerate(keep):
        if any(_under(path, h) for h in nested):
            lines += [f"mkdir -p {q(path)}", f"mount --rbind /mnt/k{i} {q(path)}"]
    lines += ["umount -l /mnt"]
    return "\n".join(lines)


def _inside_script(spec: dict, connection: str, cwd: str, extra: list[str] = ()) -> str:
    """The shell run as root inside the new namespaces: the mounts (``mount_script``), then drop privileges and exec
    the kernel (with nbclient's extra arguments, e.g. the in-memory history)."""
    q = shlex.quote
    return "\n".join([mount_script(spec, cwd), f"cd {q(cwd)}",
                      f"exec setpriv --reuid={spec['uid']} --regid={spec['gid']} --clear-groups --no-new-privs "
                      f"{q(spec['python'])} -m ipykernel_launcher -f {q(connection)}"
                      + "".join(f" {q(a)}" for a in extra)])


def _under(path: str, top: str) -> bool:
    """``path`` lies strictly inside the directory ``top``."""
    return path != top and path.startswith(top.rstrip("/") + "/")


def kernel_env(spec: dict, environ: dict | None = None) -> dict:
    """The kernel's whole environment: nothing of the grader's (``environ``, default os.environ) but what a notebook
    needs."""
    environ = os.environ if environ is None else environ
    work = spec["work"]
    env = {
        "HOME": f"{work}/home", "IPYTHONDIR": f"{work}/home/.ipython", "MPLCONFIGDIR": f"{work}/home/.mpl",
        "PYTHONPATH": f"{work}/stub", "PATH": environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": f"{work}/tmp",
    }
    # JPY_PARENT_PID: ipykernel exits by itself when that process (the worker) is gone, e.g. after a kill -9
    env.update({k: v for k, v in environ.items() if k in ("NBGRADER_EXECUTION", "BACKPROP_JUDGE", "LANG",
                                                               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                               "JPY_PARENT_PID")})
    return env


def main(argv=None) -> None:
    spec_path, connection, *extra = argv or sys.argv[1:]
    spec = json.loads(Path(spec_path).read_text())
    zygote = os.environ.get("BACKPROP_ZYGOTE")
    if zygote:   # the worker keeps a fork server: a kernel forked from an interpreter that has imported everything
        from .zygote import PRELOAD_ENV, launch
        cwd = os.getcwd()
        launch(zygote, {"uid": spec["uid"], "gid": spec["gid"], "work": spec["work"], "cwd": cwd,
                        "connection": connection, "mounts": mount_script(spec, cwd), "env": kernel_env(spec),
                        "extra": extra, "preload": [n for n in os.environ.get(PRELOAD_ENV, "").split(",") if n]})
    work = Path(spec["work"])
    copy = work / "connection.json"
    shutil.copy2(connection, copy)
    os.chown(copy, spec["uid"], spec["gid"])
    cwd = os.getcwd()
    # The working directory is nbgrader's copy of this submission: the kernel may write files there.
    os.chmod(cwd, 0o1777)
    script = _inside_script(spec, str(copy), cwd, extra)
    os.execvpe("unshare", ["unshare", "--mount", "--net", "--", "sh", "-c", script], kernel_env(spec))


if __name__ == "__main__":
    main()
