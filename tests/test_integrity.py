"""Submissions that try to earn points without doing the work, graded by real nbgrader through the grading CLI's
judge. Each one must earn no more than the blank submission (issue: "An autograder that names the bug and cannot be
fooled"). Each attack is the hard-coded submission (every function returns the numbers the visible tests quote, so
the visible asserts pass) plus the attack code at the top of the first cell a student may edit: without the judge,
the attacks that silence or fake the hidden checks would collect points."""
import copy

import nbformat
import pytest

from autograder.authoring import build
from autograder.grading import classrun, submission
from conftest import ROOT

pytestmark = pytest.mark.slow

A = "01_chain_rule"

PATCH_COMPARISONS = """
import math, builtins, numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: np.True_
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_almost_equal = lambda *a, **k: None
math.isclose = lambda *a, **k: True
builtins.abs = lambda x: 0
builtins.isinstance = lambda *a: True
"""

ATTACKS = {
    "patch_comparisons": PATCH_COMPARISONS,
    "custom_exc": "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
    "showtraceback": "_ip = get_ipython()\n_ip.showtraceback = lambda *a, **k: None\n_ip._showtraceback = lambda *a, **k: None",
    "excepthook_and_custom_exc": ("import sys\nsys.excepthook = lambda *a: None\n"
                                  "get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)"),
    "fake_modules": """
import sys, types
for _name in ["autograder", "autograder.checks", "autograder.checks.nb01", "autograder.checks._core"]:
    _m = types.ModuleType(_name)
    _m.__path__ = []
    _m.__getattr__ = lambda attr: (lambda *a, **k: None)
    sys.modules[_name] = _m
sys.modules["autograder"].checks = sys.modules["autograder.checks"]
sys.modules["autograder.checks"].nb01 = sys.modules["autograder.checks.nb01"]
""",
    "import_hook": """
import sys, types, importlib.abc, importlib.machinery
class _Fake(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name.startswith("autograder"):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
    def create_module(self, spec):
        m = types.ModuleType(spec.name); m.__path__ = []
        m.__getattr__ = lambda attr: (lambda *a, **k: None)
        return m
    def exec_module(self, module):
        pass
for _k in [k for k in sys.modules if k.startswith("autograder")]:
    del sys.modules[_k]
sys.meta_path.insert(0, _Fake())
""",
    "unset_judge_and_patch": "import os\nos.environ.pop('BACKPROP_JUDGE', None)\n" + PATCH_COMPARISONS,
    "patch_grader_internals": """
import os
os.environ.pop('BACKPROP_JUDGE', None)
import autograder.checks._core as _c
_c.compare = lambda *a, **k: None
_c.compare_group = lambda *a, **k: None
_c.check_scalar = lambda name, v: 0.0
_c.repeat = lambda check, times=5: None
""",
    "degenerate_random": """
import numpy as np
class _Zero:
    def __getattr__(self, name):
        return lambda *a, size=None, **k: np.zeros(size if size is not None else ()) if name != "integers" else 1
np.random.default_rng = lambda *a, **k: _Zero()
np.random.Generator = lambda *a, **k: _Zero()
np.random.PCG64 = lambda *a, **k: None
import secrets
secrets.randbits = lambda k: 0
def sigmoid(z): return np.full(np.shape(z), 0.5)
def sigmoid_prime(z): return np.full(np.shape(z), 0.25)
""",
}


def _first_solution_cell(nb):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))


def _hard_coded(nb):
    """Every function returns the numbers quoted in the visible tests, whatever its input."""
    nb = copy.deepcopy(nb)
    answers = {
        "sigmoid": "def sigmoid(z):\n    import numpy as np\n    z = np.asarray(z, dtype=float)\n"
                   "    table = {0.0: 0.5, -1.0: 0.26894142, 2.0: 0.88079708, -1000.0: 0.0, 1000.0: 1.0}\n"
                   "    return np.vectorize(lambda v: table.get(float(v), 0.5))(z)\n\n"
                   "def sigmoid_prime(z):\n    import numpy as np\n    return np.full(np.shape(z), 0.2)",
        "net221": "PARAM_NAMES = ['w1','w2','w3','w4','w5','w6','b1','b2','b3']\n"
                  "def forward_221(params, x):\n    return {'h1': 0.0474259, 'h2': 0.0474259, 'o1': 0.5236952}\n"
                  "def backprop_221(params, x, y):\n"
                  "    return {'w1': 0.0214695, 'w2': 0.0107348, 'w3': 0.0214695, 'w4': 0.0107348, 'w5': -0.0112692,\n"
                  "            'w6': -0.0112692, 'b1': -0.0107348, 'b2': -0.0107348, 'b3': -0.2376176}",
        "wrong_formulas": "wrong_formulas = {'A', 'C'}",
    }
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            c.source = answers[gid]
    return nb


def _edited_tests(nb):
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("grade"):
            c.source = "assert True"
            meta["points"] = 100
    return nb


def _deleted_tests(nb):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    blank = nbformat.read(build.DEMO_DIR / "cy" / A / f"{A}.ipynb", as_version=4)
    sub = tmp_path_factory.mktemp("attacks") / "submitted"
    subs = {"blank": blank, "hard_coded": _hard_coded(blank), "edited_tests": _edited_tests(blank),
            "deleted_tests": _deleted_tests(blank)}
    for name, code in ATTACKS.items():
        nb = _hard_coded(blank)
        cell = _first_solution_cell(nb)
        cell.source = code.strip() + "\n\n" + cell.source
        subs[name] = nb
    for student, nb in subs.items():
        path = sub / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    course = classrun.prepare(tmp_path_factory.mktemp("course") / "c", ROOT, submitted=sub)
    # isolate=False: this suite shows what the judge alone defends; tests/test_isolation.py covers the sandbox.
    # cell_timeout 10 s: a blank notebook's cells take well under a second; two attacks wedge their kernel
    # (builtins.isinstance patched) and wait out the limit
    limits = submission.Limits(notebook_timeout=120, cell_timeout=10, memory_mb=4096, isolate=False)
    return {o.student: o for o in classrun.grade(course, [A], jobs=2, limits=limits, progress=False)}


@pytest.mark.parametrize("attack", ["hard_coded", "edited_tests", "deleted_tests", *ATTACKS])
def test_attack_earns_no_more_than_blank(graded, attack):
    blank, o = graded["blank"], graded[attack]
    assert blank.score == 0 and blank.max_score == 19
    assert o.score <= blank.score, (o.score, o.failures)
    if attack in ("hard_coded", "edited_tests", "deleted_tests"):   # a grade, not "grade again" (never resolved)
        assert o.status == "graded", (o.status, o.reason)
    assert o.max_score == blank.max_score, "the attack changed the points available"


@pytest.mark.parametrize("attack", ["fake_modules", "patch_grader_internals"])
def test_checks_that_never_reached_the_judge_are_named(graded, attack):
    """These attacks do beat checks that run inside the kernel: nbgrader saw no error in the faked cells and gave
    them points. The judge's ledger has no run of those checks, so reconciliation takes the points back."""
    o = graded[attack]
    assert any(msg.startswith("integrity:") for msg in o.failures.values()), o.failures


def test_hard_coded_answers_pass_visible_tests_but_not_hidden_ones(graded):
    o = graded["hard_coded"]
    assert "test_backprop_221_weights" in o.failures and "integrity" not in o.failures["test_backprop_221_weights"]


def test_the_judges_zero_is_the_autograders_and_a_clean_resubmission_gets_its_points(tmp_path):
    """The judge's cap is an autograde score (``auto_score``), not a person's (``manual_score``): the formgrader does
    not list a capped cell as needing a person, and a later autograde in the same gradebook (the exchange, after a
    resubmission) scores the new work afresh instead of keeping a 0 that looks like a grader's."""
    from nbgrader.api import Gradebook

    blank = nbformat.read(build.DEMO_DIR / "cy" / A / f"{A}.ipynb", as_version=4)
    nb = _hard_coded(blank)
    cell = _first_solution_cell(nb)
    cell.source = ATTACKS["fake_modules"].strip() + "\n\n" + cell.source
    path = tmp_path / "submitted" / "eve" / A / f"{A}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    course = classrun.prepare(tmp_path / "course", ROOT, submitted=tmp_path / "submitted")
    # cell_timeout 10 s: a blank notebook's cells take well under a second; two attacks wedge their kernel
    # (builtins.isinstance patched) and wait out the limit
    limits = submission.Limits(notebook_timeout=120, cell_timeout=10, memory_mb=4096, isolate=False)
    (first,) = classrun.grade(course, [A], jobs=1, limits=limits, progress=False, log=lambda *a: None)
    assert first.score == 0 and any(v.startswith("integrity:") for v in first.failures.values()), first.failures
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        capped = [g for nb_ in gb.find_submission(A, "eve").notebooks for g in nb_.grades if g.cell_type == "code"]
        assert capped and all(g.manual_score is None and not g.needs_manual_grade for g in capped), \
            [(g.name, g.manual_score, g.needs_manual_grade) for g in capped]
    # eve resubmits correct work; the exchange autogrades it into the same gradebook
    (course / "submitted" / "eve" / A / f"{A}.ipynb").write_bytes((build.DEMO_DIR / "ada" / A / f"{A}.ipynb")
                                                                   .read_bytes())
    (again,) = classrun.autograde_many(course, [(A, "eve")], jobs=1, limits=limits, progress=False,
                                       log=lambda *a: None)
    assert again.score == 17 and not again.failures, (again.score, again.failures)
