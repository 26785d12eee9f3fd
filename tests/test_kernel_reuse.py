"""Every submission runs in a kernel no other submission has touched, also now that kernels are forked from a
pre-imported parent (autograder/grading/zygote.py).

Student A (ada's answers) monkeypatches numpy, writes files wherever it can, leaves a thread running, changes
``sys.modules`` and the environment. Student B (ben's answers, with a probe cell) is graded next, on the same worker
(jobs=1, in name order), and reports what it sees: nothing of A's, and its own grade. The probe is checked against
its own control: A's cell and the probe run in one shared kernel (nbclient), where the probe must see every trace.
"""
import copy
import os

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.authoring import build
from autograder.grading import classrun, sandbox, submission
from conftest import ROOT

pytestmark = pytest.mark.slow
A = "01_chain_rule"

TAMPER = r'''
import os, sys, threading, time, types, pathlib
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.linalg.norm = lambda *a, **k: 0.0
for _d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", os.path.expanduser("~"), os.getcwd(), "..", "../.."):
    try:
        pathlib.Path(_d, "left-by-a.txt").write_text("A was here")
    except OSError:
        pass
threading.Thread(target=lambda: time.sleep(3600), name="left-by-a", daemon=True).start()
sys.modules["course.data"] = types.ModuleType("course.data")
sys.modules["left_by_a"] = types.ModuleType("left_by_a")
os.environ["LEFT_BY_A"] = "1"
'''

PROBE = r'''
import os, sys, threading, pathlib
import numpy as np
_seen = []
if np.allclose(1.0, 2.0) or np.isclose(1.0, 2.0) or np.linalg.norm([3.0, 4.0]) != 5.0:
    _seen.append("numpy patched")
for _d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", os.path.expanduser("~"), os.getcwd(), "..", "../.."):
    if pathlib.Path(_d, "left-by-a.txt").exists():
        _seen.append(f"file in {_d}")
if any(t.name == "left-by-a" for t in threading.enumerate()):
    _seen.append("thread")
if "left_by_a" in sys.modules or not hasattr(sys.modules.get("course.data"), "__file__"):
    _seen.append("sys.modules")
if "LEFT_BY_A" in os.environ:
    _seen.append("environment")
print("PROBE", "clean" if not _seen else "; ".join(_seen))
'''


def _with(nb, code: str):
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "neuron")
    cell.source = code + "\n" + cell.source
    return nb


def _probe_line(nb, prefix: str = "PROBE") -> str:
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    return next((ln for ln in text.splitlines() if ln.startswith(prefix + " ")), f"{prefix} did not run")


def test_the_probe_sees_a_shared_kernel(tmp_path):
    """The control: in one kernel, A's tampering then B's probe: the probe reports every trace."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TAMPER), nbformat.v4.new_code_cell(PROBE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    line = _probe_line(nb)
    for trace in ("numpy patched", "file in", "thread", "sys.modules", "environment"):
        assert trace in line, line


@pytest.mark.skipif(not sandbox.available()[0], reason=f"sandbox unavailable: {sandbox.available()[1]}")
def test_next_submission_on_the_same_worker_sees_nothing(tmp_path):
    ada = nbformat.read(build.DEMO_DIR / "ada" / A / f"{A}.ipynb", as_version=4)
    ben = nbformat.read(build.DEMO_DIR / "ben" / A / f"{A}.ipynb", as_version=4)
    sub = tmp_path / "submitted"
    for student, nb in {"a_tamper": _with(ada, TAMPER), "b_probe": _with(ben, PROBE)}.items():
        path = sub / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    course = classrun.prepare(tmp_path / "course", ROOT, submitted=sub)
    limits = submission.Limits(notebook_timeout=300, cell_timeout=60, isolate=True)
    outcomes = {o.student: o for o in classrun.grade(course, [A], jobs=1, limits=limits, progress=False)}
    graded = nbformat.read(course / "autograded" / "b_probe" / A / f"{A}.ipynb", as_version=4)
    assert _probe_line(graded) == "PROBE clean"
    assert (outcomes["a_tamper"].score, outcomes["b_probe"].score) == (17.0, 12.0), outcomes
    assert not any(p.name == "left-by-a.txt" for p in (course / "autograded").rglob("*") if "b_probe" in p.parts)


DIGITS_TAMPER = ("from course import digits as _d\nprint('DIGITS', _d._read.cache_info().currsize)\n"
                 "_d._read(str(_d.mnist_path()))[:] = 0   # the table every load_mnist of this kernel reads")
DIGITS_PROBE = ("from course import digits as _d\n"
                "print('DIGITS', _d._read.cache_info().currsize, float(_d.load_mnist(50, 0)[0].sum()) > 0)")


def _first(nb, code: str):
    nb = copy.deepcopy(nb)
    nb.cells.insert(0, nbformat.v4.new_code_cell(code))
    return nb


@pytest.mark.skipif(not sandbox.available()[0], reason=f"sandbox unavailable: {sandbox.available()[1]}")
def test_the_digits_are_read_once_by_the_fork_server_only_for_notebooks_that_load_them(tmp_path):
    """04 loads the digits: its kernels find them read before their first cell (the fork server read them once), A
    overwrites its copy and B, forked next from the same server, still reads the real images and gets its grade. 01
    does not: a worker grading only 01 never reads them."""
    limits = submission.Limits(notebook_timeout=300, cell_timeout=60, isolate=True)
    d4 = "04_initialization"
    ada4 = nbformat.read(build.DEMO_DIR / "ada" / d4 / f"{d4}.ipynb", as_version=4)
    ada1 = nbformat.read(build.DEMO_DIR / "ada" / A / f"{A}.ipynb", as_version=4)
    lines = {}
    classes = ((A, {"c_01": _first(ada1, DIGITS_PROBE)}),
               (d4, {"a_tamper": _first(ada4, DIGITS_TAMPER), "b_probe": _first(ada4, DIGITS_PROBE)}))
    for assignment, students in classes:
        sub = tmp_path / assignment / "submitted"
        for student, nb in students.items():
            (sub / student / assignment).mkdir(parents=True)
            nbformat.write(nb, sub / student / assignment / f"{assignment}.ipynb")
        course = classrun.prepare(tmp_path / assignment / "course", ROOT, submitted=sub)
        outcomes = {o.student: o for o in classrun.grade(course, [assignment], jobs=1, limits=limits, progress=False)}
        for student in students:
            graded = nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
            lines[student] = (_probe_line(graded, "DIGITS"), outcomes[student].score)
    assert lines["c_01"][0] == "DIGITS 0 True", lines   # read by the kernel itself, at the probe's own call
    assert lines["a_tamper"][0] == "DIGITS 1", lines
    assert lines["b_probe"] == ("DIGITS 1 True", 12.0), lines


def test_a_preload_that_fails_costs_only_the_speed_up(monkeypatch, capsys):
    """The fork server goes on serving (kernels then read for themselves); an unknown name is ignored."""
    from autograder.grading import zygote

    monkeypatch.setitem(zygote.ON_DEMAND, "broken", ("no_such_module_for_this_test", "preload"))
    loaded = set()
    zygote._load_on_demand(["broken", "not-a-preload"], loaded)
    zygote._load_on_demand(["broken"], loaded)   # tried once, not at every kernel
    assert loaded == {"broken"}
    assert capsys.readouterr().err.count("could not preload broken") == 1


def test_the_fork_server_preloads_what_every_kernel_imports_and_starts_no_thread(tmp_path):
    """``zygote.KERNEL_PRELOAD`` is imported once by the fork server instead of by every kernel: each name on it is
    one that a plain kernel (not forked) imports by itself after a cell and a traceback, so a name a newer ipykernel or
    IPython no longer needs fails here instead of staying on the list; loading it in a fresh interpreter, as the fork
    server does, starts no thread (it forks) and leaves pygments' Python lexer compiled."""
    import json
    import subprocess
    import sys

    from autograder.grading import zygote

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in (   # what a course notebook does: plots, and an error or two
        "import numpy as np\nimport matplotlib.pyplot as plt\nfrom course import data, plots",
        "plt.plot(np.arange(3.0))\nplt.show()",
        "print('.' * 100_000)",   # a message over 64 KB, which the kernel sends without copying
        "import json\njson.loads('{')",   # a traceback through a library's file, which IPython highlights
        "import sys\nprint('MODULES', ' '.join(sorted(sys.modules)))")]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    in_a_kernel = set(_probe_line(nb, "MODULES").split()[1:])
    assert len(in_a_kernel) > 100, _probe_line(nb, "MODULES")
    assert set(zygote.KERNEL_PRELOAD) <= in_a_kernel, sorted(set(zygote.KERNEL_PRELOAD) - in_a_kernel)
    probe = ("import json, sys, threading\nfrom autograder.grading import zygote\nzygote.preload()\n"
             "from pygments.lexers.python import PythonLexer\n"
             "print(json.dumps({'threads': threading.active_count(), 'lexer': '_tokens' in PythonLexer.__dict__,"
             " 'missing': [m for m in zygote.KERNEL_PRELOAD if m not in sys.modules]}))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"threads": 1, "lexer": True, "missing": []}, out.stdout
    assert "Debugger warning" not in out.stderr, out.stderr   # pydevd's import-time warning stays off


def test_the_fork_servers_traceback_lexer_shows_the_same_tracebacks(tmp_path):
    """``zygote.reuse_traceback_lexer`` (one lexer class for every frame instead of a new one each) changes no
    character of what IPython shows: the same two tracebacks, one through a library's file and one through the
    student's own function, before and after, colours and the highlighted expression included. In a fresh
    interpreter: the replacement is for the fork server's kernels, not for this test process."""
    import json
    import subprocess
    import sys

    probe = '''
import json, re, sys
from IPython.core.ultratb import VerboseTB

def slope(x):
    return 1 / x

def shown():
    out = []
    for call in (lambda: json.loads("{"), lambda: slope(0)):
        try:
            call()
        except Exception:
            out += VerboseTB().structured_traceback(*sys.exc_info())
    return re.sub(r" at 0x[0-9a-f]+", "", "\\n".join(out))   # the local variables' reprs name addresses

before = shown()
from autograder.grading import zygote
replaced = zygote.reuse_traceback_lexer()
after = shown()
print(json.dumps({"replaced": replaced, "same": before == after, "coloured": "\\x1b[" in after,
                  "frames": after.count("slope")}))
'''
    (tmp_path / "probe.py").write_text(probe)   # a file: its frames have source lines to highlight
    out = subprocess.run([sys.executable, str(tmp_path / "probe.py")], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["replaced"] and got["coloured"] and got["frames"] >= 2, got
    assert got["same"], "the fork server's lexer changed a traceback"
