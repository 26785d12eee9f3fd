"""The order `make test` hands out test files to its xdist workers: the longest first (used by tests/conftest.py).

A module of its own, not conftest.py: under xdist, ``from conftest import ...`` in a test file can find
tests/browser/conftest.py instead.
"""
from pathlib import Path

TESTS = Path(__file__).resolve().parent

#: Seconds each long test file took on 2 xdist workers (junit durations, fresh run at 11d6a37, 7 Dec 2026). `make test`
#: hands out whole files (--dist loadfile) in collection order, so the longest go first and the short ones fill in at
#: the end: a long file started last would leave the other worker idle while it runs. xdist (>= 3.8) would reorder
#: the files by their number of tests, so `make test` passes --no-loadscope-reorder (without it this order is lost:
#: seen, the hub test started last). tests/test_suite_setup.py checks that every name here is a test file.
LONG_FILES = {
    "test_cluster.py": 132, "test_grading_faults.py": 122, "browser/test_hub.py": 109, "test_false_rejects.py": 104,
    "browser/test_student.py": 62, "test_pipeline.py": 60, "test_benchmarks_grading_smoke.py": 58,
    "test_bad_submissions.py": 57, "test_integrity.py": 51, "browser/test_formgrader_manual.py": 45,
    "test_benchmarks_smoke.py": 40, "test_exchange.py": 36, "test_manual_grading.py": 34, "test_nb07.py": 26,
    "test_sync.py": 24, "test_zipcollect.py": 24, "browser/test_assignment_list.py": 22, "test_bug_zoo.py": 14,
}


def longest_first(items) -> None:
    """Sort collected test items so the longest files come first (a stable sort: each file's tests stay together
    and in their order)."""
    def weight(item) -> int:
        try:
            return LONG_FILES.get(Path(str(item.fspath)).resolve().relative_to(TESTS).as_posix(), 0)
        except ValueError:
            return 0
    items.sort(key=lambda item: -weight(item))
