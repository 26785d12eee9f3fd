"""A class run starts no more nbgrader workers than it has submissions (each costs a start and a fork server)."""
from autograder.grading.classrun import pool_size


def test_never_more_workers_than_submissions():
    assert pool_size(2, 1) == 1        # one late student regraded: one worker
    assert pool_size(2, 40) == 2
    assert pool_size(8, 3) == 3


def test_at_least_one_worker_even_without_submissions():
    assert pool_size(2, 0) == 1        # generate_assignment and the CSV still run on it


def test_default_is_one_per_core(monkeypatch):
    import os
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert pool_size(None, 100) == 6
    assert pool_size(None, 4) == 4
