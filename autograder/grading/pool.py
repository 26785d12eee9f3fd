"""The pool of long-lived nbgrader workers: one ``python -m autograder.grading.worker`` process per slot, each with
its own judge, handed out one per grading thread."""
from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections import deque
from contextlib import contextmanager
from pathlib import Path

from . import nbg, sandbox
from .judge import Judge
from .procs import LineReader, close_quietly, drain, kill_tree


class Worker:
    """One long-lived ``python -m autograder.grading.worker`` process (nbgrader imported once), its slot ``index`` in
    the pool and, when kernels are sandboxed, the sandbox user it holds (``sandbox.Claim``). Each call sends one task and waits for the answer; past the time limit, or if the
    process dies, the worker and every process under it (kernels included) are killed, and the next call starts a
    fresh one. ``Result`` mirrors ``nbg.run``: returncode 0 on success, the log (and traceback) as output."""

    MAX_TASKS = 200   # recycle the process now and then, so nothing one submission left behind grows for long

    def __init__(self, index: int, course: Path, memory_mb: int | None = None, claim: sandbox.Claim | None = None):
        self.index, self.course, self.memory_mb, self.claim = index, course, memory_mb, claim
        self.sandbox_uid = claim.uid if claim else None
        self.proc: subprocess.Popen | None = None
        self.judge = Judge()
        self.tasks = 0
        self.halted = False   # set by WorkerPool.kill_all (Ctrl-C): no new process, no second try
        self._stderr: deque[str] = deque(maxlen=200)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.grading.worker", str(self.course), *self.zygote_flag()],
            cwd=self.course, env=nbg.env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            start_new_session=True, preexec_fn=nbg._limit_memory(self.memory_mb * 2**20 if self.memory_mb else None))
        self._stderr.clear()
        self.reader = LineReader(self.proc.stdout.fileno())
        # nbgrader's own log, and whatever a kernel writes to its inherited stderr: keep the tail
        threading.Thread(target=drain, args=(self.proc.stderr, self._stderr), daemon=True).start()
        self.tasks = 0
        line = self._readline(120)
        if line is None or "worker ready" not in line:
            tail = "".join(self._stderr)[-2000:]
            self.kill()
            raise RuntimeError(f"the nbgrader worker did not start: {line!r}\n{tail}")

    #: Sandboxed kernels are forked from a pre-imported parent (autograder/grading/zygote.py); False: started anew
    USE_ZYGOTE = True

    def zygote_flag(self) -> list[str]:
        return ["--zygote"] if self.claim is not None and self.USE_ZYGOTE else []

    def _readline(self, timeout: float) -> str | None:
        """The next protocol line; None past ``timeout`` seconds; '' when the worker died."""
        return self.reader.readline(timeout)

    def call(self, task: dict, timeout: float | None) -> nbg.Result:
        if self.halted:
            return nbg.Result(-9, "grading was stopped")
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.kill()
            self.start()
        try:
            self.proc.stdin.write(json.dumps(task) + "\n")
            self.proc.stdin.flush()
            line = self._readline(timeout if timeout is not None else 24 * 3600)
        except (BrokenPipeError, ValueError, OSError):
            line = ""
        if line is None:
            self.kill()
            return nbg.Result(-9, "".join(self._stderr)[-3000:], timed_out=True)
        if not line:
            self.kill()
            return nbg.Result(-9, "the nbgrader worker died: " + "".join(self._stderr)[-3000:])
        self.tasks += 1
        if self.sandbox_uid is not None:
            sandbox.kill_user(self.sandbox_uid)
        if self.tasks >= self.MAX_TASKS:
            self._stop_process()
        answer = json.loads(line)
        output = "\n".join(answer.get(k) or "" for k in ("log", "error"))
        return nbg.Result(0 if answer.get("success") else 1, output)

    def kill(self) -> None:
        """SIGKILL the worker, its process group and every process below it (kernels run in their own sessions)."""
        if self.proc is None:
            return
        kill_tree(self.proc.pid)
        if self.sandbox_uid is not None:
            sandbox.kill_user(self.sandbox_uid)
        self._close()

    def stop(self) -> None:
        """End the worker (and its judge) at the end of the class."""
        self.judge.stop()
        self._stop_process()

    def _stop_process(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=20)
        except (subprocess.TimeoutExpired, OSError):
            self.kill()
            return
        self._close()

    def _close(self) -> None:
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        close_quietly(self.proc.stdin, self.proc.stdout)
        self.proc = None


class WorkerPool:
    """``jobs`` workers for one course directory, handed out one per thread."""

    def __init__(self, course: Path, jobs: int, limits):
        self.slots: queue.Queue = queue.Queue()
        self.all = []
        for i in range(jobs):
            w = Worker(i, course, limits.memory_mb, sandbox.claim_user() if limits.isolate else None)
            self.all.append(w)
            self.slots.put(w)

    def __enter__(self):
        """Start every worker at once (each pays nbgrader's import in parallel)."""
        starters = [threading.Thread(target=w.start) for w in self.all]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        return self

    def __exit__(self, exc_type, *exc):
        for w in self.all:
            if exc_type is not None:   # Ctrl-C or an error: no waiting for submissions in flight
                w.kill()
            w.stop()
            if w.claim is not None:
                w.claim.release()
        return False

    def kill_all(self) -> None:
        """Kill every worker now (and all under it): the threads waiting on them get their answer at once, and none of
        them starts a worker again (no second try of the submissions in flight: the run is being stopped)."""
        for w in self.all:
            w.halted = True
            proc = w.proc
            if proc is not None:
                kill_tree(proc.pid)   # the thread inside w.call() sees the pipe close and cleans up
            if w.sandbox_uid is not None:
                sandbox.kill_user(w.sandbox_uid)

    @contextmanager
    def worker(self):
        w = self.slots.get()
        try:
            yield w
        finally:
            self.slots.put(w)

    def run(self, task: dict, timeout: float | None = None, check: bool = True) -> nbg.Result:
        """One nbgrader step on any free worker."""
        with self.worker() as w:
            res = w.call(task, timeout)
        if check and res.returncode != 0:
            raise RuntimeError(f"nbgrader {task} failed:\n{res.output[-3000:]}")
        return res
