"""A sandboxed kernel (autograder/grading/sandbox.py) reaches only its own submission: no gradebook, no source/ (solutions and
hidden tests), no other student, no reference code, no network, no root. The probe prints what it could do, and this
test reads the graded notebook."""
import copy
import os

import nbformat
import pytest

from autograder.authoring import build
from autograder.grading import classrun, sandbox, submission
from conftest import ROOT

pytestmark = pytest.mark.slow
A = "01_chain_rule"

PROBE = r'''
import os, socket, pathlib
_cwd = pathlib.Path.cwd()
_course = _cwd.parents[2]
_root = pathlib.Path(%(root)r)
def _probe(name, action):
    try:
        action()
        print(f"PROBE {name}: ALLOWED")
    except BaseException as e:
        print(f"PROBE {name}: blocked ({type(e).__name__})")
_probe("read gradebook", lambda: (_course / "gradebook.db").read_bytes()[:16] or 1/0)
_probe("write gradebook", lambda: open(_course / "gradebook.db", "ab").write(b"x"))
_probe("read course source", lambda: next((_course / "source" / %(a)r).glob("*.ipynb")).read_text())
_probe("read repo source", lambda: next((_root / "source" / %(a)r).glob("*.ipynb")).read_text())
_probe("read repo solutions", lambda: next((_root / "solutions" / %(a)r).glob("*.ipynb")).read_text())
_probe("read other student", lambda: next((_course / "submitted" / "other").rglob("*.ipynb")).read_text())
_probe("list autograded", lambda: [p for p in (_course / "autograded").iterdir() if p.name != "probe"][0])
_probe("import reference", lambda: __import__("autograder.reference.mlp"))
_probe("read grader code", lambda: (_root / "autograder" / "mlp.py").read_text())
_probe("network tcp", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2))
_probe("loopback tcp", lambda: socket.create_connection(("127.0.0.1", 22), timeout=2))
_probe("be root", lambda: os.getuid() == 0 or 1/0)
_probe("write own dir", lambda: (_cwd / "scratch.txt").write_text("mine"))
import tempfile
_probe("temp file", lambda: tempfile.TemporaryFile().write(b"x"))
print("PROBE temp dir:", tempfile.gettempdir() == str(_cwd) and "the submission's own folder" or "private")
print("PROBE cwd:", _cwd, oct(_cwd.stat().st_mode), _cwd.stat().st_uid, os.getuid())
'''

needs_sandbox = pytest.mark.skipif(not sandbox.available()[0], reason=f"sandbox unavailable: {sandbox.available()[1]}")


@pytest.fixture(scope="module")
def probe_outputs(tmp_path_factory):
    good = nbformat.read(build.DEMO_DIR / "ada" / A / f"{A}.ipynb", as_version=4)
    probe = copy.deepcopy(good)
    cell = next(c for c in probe.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "neuron")
    cell.source = PROBE % {"root": str(ROOT), "a": A} + "\n" + cell.source
    sub = tmp_path_factory.mktemp("iso") / "submitted"
    for student, nb in {"probe": probe, "other": good}.items():
        path = sub / student / A / f"{A}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    course = classrun.prepare(tmp_path_factory.mktemp("course") / "c", ROOT, submitted=sub)
    limits = submission.Limits(notebook_timeout=120, cell_timeout=30, isolate=True)
    outcomes = {o.student: o for o in classrun.grade(course, [A], jobs=2, limits=limits, progress=False)}
    graded = nbformat.read(course / "autograded" / "probe" / A / f"{A}.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in graded.cells if c.cell_type == "code" for o in c.get("outputs", []))
    lines = {ln.split(":")[0][6:]: ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("PROBE ")}
    return outcomes, lines


@needs_sandbox
@pytest.mark.parametrize("probe", ["read gradebook", "write gradebook", "read course source", "read repo source",
                                   "read repo solutions", "read other student", "list autograded", "import reference",
                                   "read grader code", "network tcp", "loopback tcp", "be root"])
def test_sandbox_blocks(probe_outputs, probe):
    _, lines = probe_outputs
    assert probe in lines, f"the probe did not run: {lines}"
    assert lines[probe].startswith("blocked"), f"{probe}: {lines[probe]}"


@needs_sandbox
def test_sandboxed_kernel_still_works(probe_outputs):
    outcomes, lines = probe_outputs
    assert lines["write own dir"] == "ALLOWED"
    # the shared temp folders are hidden; temp files go to a folder of the kernel's own, not into the submission's
    # folder (nor fail, as they did where that folder's parents are closed to the kernel's user, on the hub)
    assert lines["temp file"] == "ALLOWED" and lines["temp dir"] == "private", lines
    assert outcomes["probe"].score == outcomes["other"].score == 17, outcomes


def test_sandbox_available_where_ci_runs():
    """CI and the instructor's grading machine run as root with util-linux: isolation must not silently vanish."""
    if os.geteuid() != 0:
        pytest.skip("not root: grading runs unisolated and says so")
    ok, why = sandbox.available()
    assert ok, why


@needs_sandbox
def test_a_hidden_folder_inside_a_kept_one_stays_hidden(tmp_path):
    """The grader installed non-editable: site-packages/autograder (hidden) lies inside the venv (kept, for the
    kernel's Python). The sandbox's own mount script, run in a mount namespace, must still hide it, and bring back a
    kept folder that lies inside it."""
    import subprocess
    venv, cwd, work = tmp_path / "venv", tmp_path / "cwd", tmp_path / "work"
    secret = venv / "site-packages" / "autograder" / "reference" / "mlp.py"
    kept = venv / "site-packages" / "autograder" / "kept" / "ok.txt"
    for f, text in ((secret, "REFERENCE"), (kept, "KEPT")):
        f.parent.mkdir(parents=True)
        f.write_text(text)
    cwd.mkdir()
    work.mkdir()
    spec = {"uid": 65534, "gid": 65534, "work": str(work), "python": "unused",
            "hide": [str(venv / "site-packages" / "autograder")], "keep": [str(venv), str(kept.parent)]}
    script = sandbox._inside_script(spec, "unused", str(cwd)).rsplit("\n", 1)[0]   # all but the kernel's exec
    script += f"\n(cat {secret} 2>/dev/null || echo HIDDEN); cat {kept}; echo; ls {venv / 'site-packages'}"
    out = subprocess.run(["unshare", "--mount", "--", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["HIDDEN", "KEPT", "autograder"], out.stdout
