"""The hub's search for other clones of the course (``provision.course_checkouts``), which ``make hub`` hides from
students' servers, and the folders it must never hide (``provision.hidden_dirs``). No root needed: plain folders."""
from pathlib import Path

from autograder.hub import provision
from autograder.hub.layout import Hub


def _clone(at: Path, git: bool = True) -> Path:
    (at / "autograder" / "reference").mkdir(parents=True)
    (at / "autograder" / "reference" / "mlp.py").write_text("# the reference\n")
    if git:
        (at / ".git").mkdir()
    return at


def test_finds_clones_and_only_clones(tmp_path):
    a = _clone(tmp_path / "home" / "ta" / "backprop")
    b = _clone(tmp_path / "ci" / "run-7" / "repo")
    _clone(tmp_path / "venv" / "lib" / "site-packages" / "pkg")          # inside site-packages: not entered
    _clone(tmp_path / "copy-without-git", git=False)                     # not a checkout
    _clone(tmp_path / "skipped" / "repo")
    (tmp_path / "home" / "ta" / "backprop" / "nested").mkdir()
    _clone(tmp_path / "home" / "ta" / "backprop" / "nested" / "inner")   # inside a clone: that clone is enough
    got = provision.course_checkouts(str(tmp_path), skip=(str(tmp_path / "skipped"),))
    assert got == sorted([str(a), str(b)]), got


def test_never_hides_the_hubs_own_folders(tmp_path):
    hub = Hub(root=tmp_path / "srv" / "hub", envs=tmp_path / "opt" / "envs")
    keep_out = [str(tmp_path / "srv"), str(tmp_path / "opt" / "envs"), "/"]
    got = provision.hidden_dirs(hub, [*keep_out, str(tmp_path / "work")], log=lambda *a: None)
    assert str((tmp_path / "work").resolve()) in got
    for d in keep_out:
        assert str(Path(d).resolve()) not in got, (d, got)
