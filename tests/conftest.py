import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# nbgrader runs `alembic` as a program: the venv's bin must be on PATH even when pytest is called by full path.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


#: Seconds each long test file took on 2 xdist workers (durations summed, 7 Dec 2026). `make test` hands out whole
#: files (--dist loadfile) in collection order, so the longest go first and the short ones fill in at the end: a long
#: file started last would leave the other worker idle while it runs.
LONG_FILES = {
    "test_grading_faults.py": 130, "test_cluster.py": 129, "browser/test_hub.py": 122, "test_false_rejects.py": 100,
    "test_integrity.py": 62, "browser/test_student.py": 60, "test_pipeline.py": 55, "test_bad_submissions.py": 55,
    "test_benchmarks_grading_smoke.py": 50, "test_benchmarks_smoke.py": 45, "test_manual_grading.py": 30,
    "test_exchange.py": 27, "test_nb07.py": 26, "test_zipcollect.py": 24, "test_sync.py": 23,
}


def pytest_collection_modifyitems(config, items):
    """Longest files first (a stable sort: each file's tests stay together and in their order)."""
    tests = ROOT / "tests"

    def weight(item) -> int:
        try:
            return LONG_FILES.get(Path(str(item.fspath)).resolve().relative_to(tests).as_posix(), 0)
        except ValueError:
            return 0
    items.sort(key=lambda item: -weight(item))
