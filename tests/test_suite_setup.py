"""How `make test` spreads the suite over the cores: whole files per worker, the longest first (tests/suite_order.py).

pytest-xdist >= 3.8 reorders files by their number of tests unless told not to, and a stale name in LONG_FILES would
silently send that file to the back: both leave a worker idle at the end of the run, and nothing else would notice.
"""
import re
from pathlib import Path

from suite_order import LONG_FILES, TESTS, longest_first

ROOT = TESTS.parent


def _make_test_recipe() -> str:
    text = (ROOT / "Makefile").read_text()
    m = re.search(r"^test:.*\n((?:\t.*\n)+)", text, re.M)
    assert m, "no `test:` target in the Makefile"
    return m.group(1)


def test_make_test_keeps_files_whole_and_in_the_suite_order():
    recipe = _make_test_recipe()
    assert "--dist loadfile" in recipe, recipe
    assert "--no-loadscope-reorder" in recipe, f"xdist would put the files with most tests first: {recipe}"


def test_every_long_file_exists():
    missing = [name for name in LONG_FILES if not (ROOT / "tests" / name).is_file()]
    assert not missing, f"LONG_FILES names test files that do not exist (renamed?): {missing}"


class _Item:
    def __init__(self, path: Path):
        self.fspath = path


def test_collection_puts_the_longest_files_first_and_keeps_each_files_order():
    tests = TESTS
    short = [tests / "test_layout.py"] * 2
    items = [_Item(p) for p in short + [tests / "test_nb07.py", tests / "test_cluster.py", tests / "test_cluster.py"]]
    before = list(items)
    longest_first(items)
    assert [Path(i.fspath).name for i in items] == ["test_cluster.py", "test_cluster.py", "test_nb07.py",
                                                    "test_layout.py", "test_layout.py"]
    assert items[0] is before[3] and items[1] is before[4], "a file's own tests must keep their order"
