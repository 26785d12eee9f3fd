"""autograder/deferred_imports.py: jsonschema's rfc3987_syntax is loaded on first use, and its checks are unchanged.

Each check runs in a fresh interpreter started without site (``-S``): a temporary folder holding a fresh install of
the hook (the .pth and its module) is added as a site directory, then the venv's site-packages is put on its path
without running its .pth files. So the checks test that install, not the venv's own copy; one test checks that copy.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from autograder import deferred_imports

# (format, value, conforms): written from RFC 3987's grammar, not computed by the code under test
IRI_CASES = [
    ("iri", "http://example.com/ä", True),
    ("iri", "https://user@例え.jp:8080/pfad?q=1#frag", True),
    ("iri", "http://exa mple.com", False),      # a space is not allowed anywhere
    ("iri", "ä/b", False),                     # relative: an IRI needs a scheme
    ("iri-reference", "ä/b", True),
    ("iri-reference", "http://[bad", False),    # an unclosed IP literal
]

PROBE = r"""
import json, sys
import jsonschema
mod = sys.modules.get("rfc3987_syntax")
before = {"deferred": bool(getattr(mod, "__deferred__", False)),
          "parsers_loaded": "rfc3987_syntax.syntax_helpers" in sys.modules}
fc = jsonschema.Draft7Validator.FORMAT_CHECKER
results = [fc.conforms(value, fmt) for fmt, value, _ in json.loads(sys.argv[1])]
after = {"deferred": bool(getattr(sys.modules["rfc3987_syntax"], "__deferred__", False)),
         "parsers_loaded": "rfc3987_syntax.syntax_helpers" in sys.modules}
print(json.dumps({"before": before, "results": results, "after": after}))
"""


def run_probe(site, eager: bool = False, code: str = PROBE, *args: str) -> dict:
    """``code`` in a fresh interpreter: ``site`` as a site directory (its .pth run), then the venv's site-packages
    on its path (its .pth files not run)."""
    env = {k: v for k, v in os.environ.items() if k != deferred_imports.OFF_ENV}
    if eager:
        env[deferred_imports.OFF_ENV] = "1"
    venv_site = deferred_imports.site_packages()
    boot = (f"import sys, site; site.addsitedir({str(site)!r}); sys.path.append({venv_site!r}); "
            f"exec(compile(open({str(site / 'probe.py')!r}).read(), 'probe', 'exec'))")
    (site / "probe.py").write_text(code)
    out = subprocess.run([sys.executable, "-S", "-c", boot, *args], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def site(tmp_path):
    deferred_imports.install(tmp_path)
    return tmp_path


def test_jsonschema_import_leaves_the_parsers_unbuilt_and_the_first_check_builds_them(site):
    got = run_probe(site, False, PROBE, json.dumps(IRI_CASES))
    assert got["before"] == {"deferred": True, "parsers_loaded": False}, \
        "importing jsonschema loaded rfc3987_syntax's parsers: the hook did not defer them"
    assert got["results"] == [ok for _, _, ok in IRI_CASES], "IRI checks differ from RFC 3987's answers"
    assert got["after"] == {"deferred": False, "parsers_loaded": True}, \
        "after the first check, sys.modules should hold the real rfc3987_syntax"


def test_switched_off_the_import_is_eager_and_the_answers_are_the_same(site):
    got = run_probe(site, True, PROBE, json.dumps(IRI_CASES))
    assert got["before"] == {"deferred": False, "parsers_loaded": True}
    assert got["results"] == [ok for _, _, ok in IRI_CASES]


def test_a_submodule_imported_first_still_works(site):
    code = ("import json, sys, rfc3987_syntax.utils, rfc3987_syntax\n"
            "print(json.dumps([rfc3987_syntax.is_valid_syntax('iri', 'http://x.org/ä'),\n"
            "                  rfc3987_syntax.is_valid_syntax('iri', 'no scheme'),\n"
            "                  callable(rfc3987_syntax.utils.load_grammar)]))\n")
    assert run_probe(site, False, code) == [True, False, True]


def test_a_module_that_is_not_installed_fails_to_import_as_before(site):
    code = ("import json, sys\n"
            "import backprop_deferred_imports as d\n"
            "d.DEFERRED['no_such_module_bpfs'] = ('f',)\n"
            "try:\n"
            "    import no_such_module_bpfs\n"
            "    print(json.dumps('imported'))\n"
            "except ModuleNotFoundError as e:\n"
            "    print(json.dumps(type(e).__name__))\n")
    assert run_probe(site, False, code) == "ModuleNotFoundError"


def test_a_dunder_probe_does_not_load_the_real_module(site):
    code = ("import json, sys, rfc3987_syntax\n"
            "print(json.dumps([hasattr(rfc3987_syntax, '__file__'), hasattr(rfc3987_syntax, '__wrapped__'),\n"
            "                  'rfc3987_syntax.syntax_helpers' in sys.modules]))\n")
    assert run_probe(site, False, code) == [False, False, False]


def test_the_course_venv_has_the_hook():
    """make installs it (Makefile, the .venv/.installed step); a venv made otherwise needs
    ``python -m autograder.deferred_imports install``."""
    assert deferred_imports.status() == f"installed in {deferred_imports.site_packages()}", \
        "run: python -m autograder.deferred_imports install (make does it when it builds .venv)"
    out = subprocess.run([sys.executable, "-c", "import jsonschema, sys; "
                          "print(getattr(sys.modules['rfc3987_syntax'], '__deferred__', False))"],
                         capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if k != deferred_imports.OFF_ENV})
    assert out.stdout.strip() == "True", out.stderr


def test_install_writes_the_bytecode_too(tmp_path):
    """A venv its users cannot write to (the hub's) would otherwise compile the hook at every interpreter start."""
    import importlib.util

    paths = deferred_imports.install(tmp_path)
    assert paths[2] == importlib.util.cache_from_source(str(tmp_path / "backprop_deferred_imports.py"))
    assert os.path.getsize(paths[2]) > 0
