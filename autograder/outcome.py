"""What grading one submission came to: the ``Outcome`` record the engine fills and the report and CLI read."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "graded"          # graded | not graded
    reason: str = ""                # one line when something went wrong
    seconds: float = 0.0
    failures: dict = field(default_factory=dict)   # test grade_id -> first line of its error (the diagnosis)
    cells: dict = field(default_factory=dict)      # test grade_id -> (score, max)
    ledger: list = field(default_factory=list)     # the judge's verdicts, one per hidden check run
