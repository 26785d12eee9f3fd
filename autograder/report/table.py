"""The grade table the CLI prints: one row per student and assignment, with what went wrong."""
from __future__ import annotations

from ..outcome import GRADE_AGAIN, Outcome


def table(outcomes: list[Outcome]) -> str:
    """The grade table: one row per student and assignment, with what went wrong."""
    rows = []
    for o in outcomes:
        if o.status != "graded":
            note = o.reason
        elif o.failures:
            first = next(iter(o.failures.items()))
            note = f"{len(o.failures)} test(s) failed; {first[0]}: {first[1]}"
        else:
            note = "all tests passed"
        if o.status == "graded" and o.reason:
            note = f"{o.reason}. {note}"
        if o.status == "graded" and o.pending:
            note = f"incomplete: {len(o.pending)} written answer(s) wait for a person. {note}"
        score = "  ---" if o.status == GRADE_AGAIN else f"{o.score:5.1f}"   # an untrusted grade is never shown as 0
        rows.append(f"{o.assignment:24s} {o.student:10s} {score} / {o.max_score:<5.1f} {note}")
    head = f"{'assignment':24s} {'student':10s} {'score':^13s} notes"
    return "\n".join([head, "-" * len(head)] + rows)
