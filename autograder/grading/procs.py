"""Child processes of the grader: reading their pipes with a time limit, and killing a process tree."""
from __future__ import annotations

import os
import select
import signal
import time
from collections import deque


class LineReader:
    """Lines from a child's pipe with a time limit: select() on the file descriptor and a buffer of our own (a
    buffered file object would hide lines it has already read from select)."""

    def __init__(self, fd: int):
        self.fd, self.buf = fd, b""

    def readline(self, timeout: float) -> str | None:
        """The next line; None past ``timeout`` seconds; '' when the pipe closed."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return ""
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace") + "\n"


def close_quietly(*files) -> None:
    """Close a child's pipes; one the child already broke is no error."""
    for f in files:
        try:
            f.close()
        except OSError:
            pass


def drain(stream, tail: deque | None) -> None:
    """Read a child's pipe to the end (so the child never blocks on it), keeping the last lines in ``tail``."""
    for line in stream:
        if tail is not None:
            tail.append(line[:2000])


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc), children first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(pid: int) -> None:
    """SIGKILL the process group of ``pid`` and every process below ``pid`` (kernels run in their own sessions)."""
    victims = [pid, *descendants(pid)]
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for p in victims:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
