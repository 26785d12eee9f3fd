"""The kernel's side of a hidden check: connect to the judge, serve the calls it makes, raise its verdict.

Imports only the standard library, numpy and ``wire``, so that the sandbox can give the kernel this module (and stubs
of the checks modules) without the rest of the grader: the reference code stays out of the student's reach.
"""
from __future__ import annotations

import os
import socket
import warnings

from .wire import Endpoint

#: Set by the grading CLI: the socket of this submission's judge (see autograder/grading/judge.py).
JUDGE_ENV = "BACKPROP_JUDGE"


class KernelEndpoint(Endpoint):
    """Runs the student's functions when the judge calls them, with numerical warnings raised as errors."""

    def invoke(self, fn, args, kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return fn(*args, **kwargs)


def ask_judge(address: str, check_name: str, args: tuple) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(address)
    with sock:
        endpoint = KernelEndpoint(sock)
        endpoint.send({"op": "check", "name": check_name, "args": endpoint.encode(list(args))})
        verdict = endpoint.serve_until_answer()
    if not (isinstance(verdict, dict) and verdict.get("op") == "verdict"):
        raise AssertionError("the grader's judge did not answer")
    if not verdict.get("ok"):
        raise AssertionError(verdict.get("message", "wrong"))


def remote_only(check_name: str):
    """A check that exists only as a call to the judge (what the sandboxed kernel gets)."""
    def check(*args):
        address = os.environ.get(JUDGE_ENV)
        if not address:
            raise AssertionError("hidden tests run only under the course's grader")
        ask_judge(address, check_name, args)
    check.__name__ = check_name.split(".")[-1]
    return check
