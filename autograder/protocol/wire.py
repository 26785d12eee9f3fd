"""The judge protocol's wire format: length-prefixed JSON over a unix socket, with numpy arrays as raw bytes.

Nothing is ever unpickled: the judge decodes only None, bools, numbers, strings, lists, tuples, sets, dicts with string
keys, numeric numpy arrays, and function handles. Anything else a student returns arrives as an ``Opaque`` placeholder
that fails the checks with a readable message. Both sides use the same ``Endpoint`` loop, so a call may call back (the
judge passes its own functions, e.g. the f given to a student's ``slope(f, x)``).
"""
from __future__ import annotations

import base64
import json
import socket
import struct
from typing import Any, Callable

import numpy as np

MAX_MESSAGE = 256 * 2**20  # bytes; a larger message ends the session
_NUMERIC = set("biufc")


class Opaque:
    """Stands for a value the wire does not carry (a student's custom object, a module, a generator, ...)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


class RemoteError(Exception):
    """The other side's function raised; ``etype`` is the name of its exception type."""

    def __init__(self, etype: str, message: str):
        super().__init__(message)
        self.etype = etype


class ProtocolError(Exception):
    pass


def _send(sock: socket.socket, obj: dict) -> None:
    data = json.dumps(obj).encode()
    if len(data) > MAX_MESSAGE:
        raise ProtocolError(f"message of {len(data)} bytes is too large")
    sock.sendall(struct.pack("!Q", len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise ProtocolError("connection closed")
        buf += chunk
    return bytes(buf)


def _recv(sock: socket.socket) -> dict:
    (n,) = struct.unpack("!Q", _recv_exact(sock, 8))
    if n > MAX_MESSAGE:
        raise ProtocolError(f"message of {n} bytes is too large")
    obj = json.loads(_recv_exact(sock, n))
    if not isinstance(obj, dict):
        raise ProtocolError("message is not an object")
    return obj


class Endpoint:
    """One side of a connection. ``call`` sends a call and serves calls from the other side until its answer comes."""

    def __init__(self, sock: socket.socket, exported: dict[int, Callable] | None = None):
        self.sock = sock
        self.exported: dict[int, Callable] = exported if exported is not None else {}

    # ------------------------------------------------------------------ encoding
    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > 20:
            return {"__opaque__": "nested too deep"}
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not np.isfinite(value):
                return {"__float__": repr(value)}
            return value
        if isinstance(value, np.generic):
            return self.encode(value.item(), depth + 1) if value.dtype.kind in _NUMERIC else {"__opaque__": str(value.dtype)}
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in _NUMERIC:
                return {"__opaque__": f"ndarray of {value.dtype}"}
            arr = np.ascontiguousarray(value)
            return {"__nd__": base64.b64encode(arr.tobytes()).decode(), "dtype": arr.dtype.str, "shape": list(arr.shape)}
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, (set, frozenset)):
            return {"__set__": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, list):
            return [self.encode(v, depth + 1) for v in value]
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {"__dict__": {k: self.encode(v, depth + 1) for k, v in value.items()}}
            return {"__opaque__": "dict with non-string keys"}
        if callable(value):
            handle = len(self.exported) + 1
            self.exported[handle] = value
            return {"__fn__": handle}
        return {"__opaque__": type(value).__name__}

    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__nd__" in value:
            dtype = np.dtype(value["dtype"])
            if dtype.kind not in _NUMERIC:
                return Opaque(f"ndarray of {dtype}")
            return np.frombuffer(base64.b64decode(value["__nd__"]), dtype=dtype).reshape(value["shape"]).copy()
        if "__tuple__" in value:
            return tuple(self.decode(v) for v in value["__tuple__"])
        if "__set__" in value:
            items = [self.decode(v) for v in value["__set__"]]
            try:
                return set(items)
            except TypeError:
                return Opaque("set")
        if "__dict__" in value:
            return {str(k): self.decode(v) for k, v in value["__dict__"].items()}
        if "__float__" in value:
            return float(value["__float__"])
        if "__fn__" in value:
            return RemoteFunction(self, int(value["__fn__"]))
        if "__opaque__" in value:
            return Opaque(str(value["__opaque__"]))
        return Opaque("unknown")

    # ------------------------------------------------------------------ calls
    def call(self, handle: int, args: tuple, kwargs: dict) -> Any:
        _send(self.sock, {"op": "call", "fn": handle, "args": self.encode(list(args)),
                          "kwargs": self.encode(dict(kwargs))})
        return self.serve_until_answer()

    def serve_until_answer(self) -> Any:
        while True:
            msg = _recv(self.sock)
            op = msg.get("op")
            if op == "return":
                return self.decode(msg.get("value"))
            if op == "raise":
                raise RemoteError(str(msg.get("etype", "Exception")), str(msg.get("message", "")))
            if op == "call":
                self._serve_call(msg)
            else:
                return msg  # a message for the caller (e.g. the verdict)

    def _serve_call(self, msg: dict) -> None:
        fn = self.exported.get(int(msg.get("fn", -1)))
        try:
            if fn is None:
                raise ProtocolError("unknown function handle")
            args = self.decode(msg.get("args", []))
            kwargs = self.decode(msg.get("kwargs", {"__dict__": {}}))
            result = self.invoke(fn, args, kwargs if isinstance(kwargs, dict) else {})
            _send(self.sock, {"op": "return", "value": self.encode(result)})
        except ProtocolError:
            raise
        except BaseException as e:  # the callee's failure travels back as data
            _send(self.sock, {"op": "raise", "etype": type(e).__name__, "message": str(e)[:2000]})

    def invoke(self, fn: Callable, args: list, kwargs: dict) -> Any:
        return fn(*args, **kwargs)

    def send(self, obj: dict) -> None:
        _send(self.sock, obj)


class RemoteFunction:
    """A function living on the other side of the connection; calling it is a round trip."""

    def __init__(self, endpoint: Endpoint, handle: int):
        self._endpoint = endpoint
        self._handle = handle

    def __call__(self, *args, **kwargs):
        return self._endpoint.call(self._handle, args, kwargs)
