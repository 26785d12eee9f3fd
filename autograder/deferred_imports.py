"""Defer ``rfc3987_syntax`` until a program uses it: about 1.1 s of CPU saved in every Jupyter and nbgrader process.

jsonschema imports ``rfc3987_syntax`` for its "iri" and "iri-reference" format checks, and that module builds about
35 Earley parsers (lark) when it is imported: 1.1 s of CPU on the course's 2-core machine, paid by every process
that imports jsonschema (each ``nbgrader`` command, the ``alembic`` command nbgrader runs for each new gradebook,
JupyterLab, JupyterHub and every student's server, each grading worker), although no Jupyter or nbgrader schema uses
those formats (python-jsonschema/jsonschema#1428; jsonschema 4.26 still imports it eagerly). In the course's own
test suite 178 processes imported it: about 196 s of its 1,223 s of CPU.

This module puts a finder on ``sys.meta_path`` that answers ``import rfc3987_syntax`` with a stand-in: the names
jsonschema takes from it are functions that import the real module on their first call and hand over to it; any
other attribute does the same. The checks are the same; only a process that runs one pays for the parsers.

It is installed into a venv as a ``.pth`` file (Python runs it at every start), by make for ``.venv`` and by the hub
for its two venvs:

    python -m autograder.deferred_imports install [SITE_PACKAGES]     # default: this interpreter's site-packages
    python -m autograder.deferred_imports status [SITE_PACKAGES]

The copy in site-packages (``backprop_deferred_imports.py``) uses the standard library only: it is imported at
every interpreter start, before anything else, including in sandboxed kernels, which cannot see ``autograder``.
``BACKPROP_EAGER_IMPORTS=1`` in the environment turns it off for one process (the benchmark's baseline).
"""
from __future__ import annotations

import os
import sys

#: module -> the names importers take from it with ``from M import NAME`` (each becomes a deferring function)
DEFERRED = {"rfc3987_syntax": ("is_valid_syntax",)}
INSTALLED_NAME = "backprop_deferred_imports"
OFF_ENV = "BACKPROP_EAGER_IMPORTS"


# The finder and loader follow importlib's protocols without its abstract base classes, and import importlib's helpers
# only when the deferred module is imported: importlib.abc pulls in typing, about 12 ms at every interpreter start.


class _StandInLoader:
    def __init__(self, real_spec, names):
        self.real_spec, self.names = real_spec, names

    def create_module(self, spec):
        return None   # an ordinary module object

    def exec_module(self, module):
        import importlib.util
        import threading

        real_spec, name = self.real_spec, module.__name__
        lock = threading.RLock()

        def load():
            with lock:
                current = sys.modules.get(name)
                if current is not None and current is not module:
                    return current   # the real module, loaded by an earlier call
                real = importlib.util.module_from_spec(real_spec)
                sys.modules[name] = real
                try:
                    real_spec.loader.exec_module(real)
                except BaseException:
                    sys.modules[name] = module
                    raise
                return real

        def deferring(attr):
            def call(*args, **kwargs):
                return getattr(load(), attr)(*args, **kwargs)
            call.__name__ = call.__qualname__ = attr
            call.__doc__ = f"{name}.{attr}, imported on first call (autograder/deferred_imports.py)"
            return call

        def __getattr__(attr):
            if attr.startswith("__") and attr.endswith("__") and attr not in ("__all__", "__version__"):
                raise AttributeError(attr)   # a probe such as __file__ does not load the real module
            return getattr(load(), attr)

        for attr in self.names:
            setattr(module, attr, deferring(attr))
        module.__getattr__ = __getattr__
        module.__deferred__ = True


class DeferredFinder:
    """Answers the first ``import M`` of each module in ``DEFERRED`` with a stand-in (when M is installed)."""

    def find_spec(self, fullname, path=None, target=None):
        names = DEFERRED.get(fullname)
        if names is None or path is not None:
            return None
        import importlib.machinery
        import importlib.util

        real = importlib.machinery.PathFinder.find_spec(fullname)
        if real is None or real.loader is None:
            return None   # not installed: the import fails as it would without this finder
        spec = importlib.util.spec_from_loader(fullname, _StandInLoader(real, names), origin=real.origin)
        if real.submodule_search_locations is not None:
            # a package's stand-in is a package too: its submodules import as before (``from M import name`` finds
            # ``name`` on the stand-in first, so it loads nothing)
            spec.submodule_search_locations = list(real.submodule_search_locations)
        return spec


def register() -> None:
    """Put the finder first on ``sys.meta_path`` (once; not when ``BACKPROP_EAGER_IMPORTS`` is set)."""
    if os.environ.get(OFF_ENV):
        return
    if not any(type(f).__name__ == "DeferredFinder" for f in sys.meta_path):
        sys.meta_path.insert(0, DeferredFinder())


def site_packages() -> str:
    import sysconfig
    return sysconfig.get_path("purelib")


def install(site: str | os.PathLike | None = None) -> list[str]:
    """Copy this file into ``site`` as ``backprop_deferred_imports.py`` and add a ``.pth`` that imports it."""
    from pathlib import Path

    site = Path(site or site_packages())
    module, pth = site / f"{INSTALLED_NAME}.py", site / f"{INSTALLED_NAME}.pth"
    module.write_text(Path(__file__).read_text())
    pth.write_text(f"import {INSTALLED_NAME}\n")
    for p in (module, pth):
        p.chmod(0o644)
    # its bytecode now: a venv its users cannot write to (the hub's) would otherwise compile it at every start
    import py_compile
    cached = py_compile.compile(str(module), doraise=True)
    Path(cached).chmod(0o644)
    return [str(module), str(pth), cached]


def status(site: str | os.PathLike | None = None) -> str:
    from pathlib import Path

    site = Path(site or site_packages())
    module, pth = site / f"{INSTALLED_NAME}.py", site / f"{INSTALLED_NAME}.pth"
    if not (module.exists() and pth.exists()):
        return f"not installed in {site}"
    same = module.read_text() == Path(__file__).read_text()
    return f"installed in {site}" + ("" if same else " (an older copy: run install again)")


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verb = args.pop(0) if args else "status"
    site = args[0] if args else None
    if verb == "install":
        for path in install(site):
            print(f"wrote {path}")
        return 0
    if verb == "status":
        print(status(site))
        return 0
    print(__doc__.split("\n\n")[3], file=sys.stderr)
    return 2


if __name__ == INSTALLED_NAME:   # imported by the .pth at interpreter start
    register()
elif __name__ == "__main__":
    sys.exit(main())
