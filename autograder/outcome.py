"""What grading one submission came to: the ``Outcome`` record the engine fills and the report and CLI read."""
from __future__ import annotations

from dataclasses import dataclass, field

#: The status of a grade that could not be trusted (a worker or judge lost): never a 0, always reported.
GRADE_AGAIN = "grade again"


@dataclass
class Outcome:
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "graded"          # graded | not graded (the submission's doing: 0) | grade again (not trusted)
    reason: str = ""                # one line when something went wrong
    seconds: float = 0.0
    failures: dict = field(default_factory=dict)   # test grade_id -> first line of its error (the diagnosis)
    cells: dict = field(default_factory=dict)      # test grade_id -> (score, max)
    ledger: list = field(default_factory=list)     # the judge's verdicts, one per hidden check run
    fault: str = ""                 # why a try failed where the submission may be blameless: kernel | grader
    attempts: int = 1               # tries it took (a failed try whose cause may not be the student's is retried)
    late_penalty: float = 0.0      # points taken off for lateness (the exchange's LatePenalty)
    written: dict = field(default_factory=dict)    # written answer grade_id -> (points, or None while waiting; max)
    pending: list = field(default_factory=list)    # written answers that still wait for a person

    @property
    def final(self) -> bool:
        """No written answer waits for a person: the score is the grade (else it is a lower bound)."""
        return not self.pending

    @property
    def trusted(self) -> bool:
        """A final grade: graded, or not gradable by the submission's own doing (missing, invalid, a hang)."""
        return self.status != GRADE_AGAIN
