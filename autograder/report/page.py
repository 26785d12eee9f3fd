"""The class report: one HTML page with PNG figures, written next to grades.csv in the course run directory.

    write_report(course_dir, outcomes) -> course_dir/report.html (+ course_dir/report-*.png)
    python -m autograder report COURSE_DIR      the same, from the COURSE_DIR/outcomes.json that grade() wrote

What it shows, for the instructor after a grading run:

- a summary per assignment (submissions, graded, not graded, mean and median score, full marks, zeros);
- the score histogram of each assignment (submissions that could not be graded are stacked on top, at zero);
- the failure rate of each part (test cell): the share of graded submissions that lost points on it;
- the most frequent causes of failure: the bug a hidden check diagnosed ("Diagnosis: sign error ..."), or else what
  the error says (left blank, wrong shape, a name not defined, a warning on stderr ...), grouped;
- the slowest submissions (``Outcome.seconds``: nbgrader's autograde of that notebook, kernel start included);
- every submission that could not be graded, with its reason.

Figures are drawn with matplotlib's Agg canvas on private Figure objects (no pyplot, no global backend switch), so
this is safe to call from any process, threads included. The HTML refers to the PNGs by relative path: the directory
can be copied or zipped as a whole.
"""
from __future__ import annotations

import html
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from ..outcome import GRADE_AGAIN, Outcome
from .causes import as_outcome, causes, failure_rates
from .figures import TOP_BUGS, plot_causes, plot_failure_rates, plot_scores, plot_slowest

HTML_NAME = "report.html"


FIG_SCORES = "report-scores.png"


FIG_PARTS = "report-failure-rate.png"


FIG_BUGS = "report-bugs.png"


FIG_SLOW = "report-slowest.png"


TOP_SLOW = 10


TOP_WAITING = 100


def _table(header: list[str], rows: list[list], cls: str = "") -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 62em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num, table.num td { text-align: right; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #555; font-size: 0.9em; }
"""


def write_report(course_dir, outcomes) -> Path:
    """Write ``course_dir/report.html`` and its PNG figures (``report-*.png``, next to it); return the HTML's path.

    ``outcomes``: the ``Outcome`` list that ``grade.grade`` returns (or the dicts of its outcomes.json)."""
    course_dir = Path(course_dir)
    course_dir.mkdir(parents=True, exist_ok=True)
    outcomes = [as_outcome(o) for o in outcomes]
    by_assignment: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_assignment[o.assignment].append(o)
    rates = failure_rates(outcomes, course_dir)
    found = causes(outcomes)
    slow = sorted((o for o in outcomes if o.seconds > 0), key=lambda o: -o.seconds)[:TOP_SLOW]
    not_graded = sorted((o for o in outcomes if o.status != "graded"), key=lambda o: (o.assignment, o.student))

    plot_scores(by_assignment, course_dir / FIG_SCORES)
    plot_failure_rates(rates, course_dir / FIG_PARTS)
    plot_causes(found, course_dir / FIG_BUGS)
    plot_slowest(slow, course_dir / FIG_SLOW)

    e = html.escape
    summary = []
    for a in sorted(by_assignment):
        subs = by_assignment[a]
        graded = [o for o in subs if o.status == "graded"]
        scores = [o.score for o in graded]
        top = max((o.max_score for o in subs), default=0.0)
        summary.append([a, len(subs), len(graded), len(subs) - len(graded),
                        f"{statistics.mean(scores):.1f}" if scores else "-",
                        f"{statistics.median(scores):.1f}" if scores else "-", f"{top:g}",
                        sum(1 for o in graded if top and o.score >= top), sum(1 for o in graded if o.score == 0),
                        sum(len(o.pending) for o in graded)])
    part_rows = [[a, g, f"{100 * r:.0f}%", f"{f}/{n}"] for a, parts in rates.items() for g, r, f, n in parts]
    cause_rows = [[c.label, "diagnosed bug" if c.kind == "diagnosis" else "other", len(c.submissions), c.tests,
                   ", ".join(f"{k} ({v})" if v > 1 else k for k, v in c.cells.most_common(4))
                   + (" …" if len(c.cells) > 4 else ""), c.example[:200]] for c in found[:TOP_BUGS]]
    slow_rows = [[o.student, o.assignment, f"{o.seconds:.1f}", o.status,
                  f"{o.score:g} / {o.max_score:g}" if o.status == "graded" else o.reason] for o in slow]
    ng_rows = [[o.student, o.assignment, o.reason or "(no reason recorded)"] for o in not_graded]
    again = [o for o in not_graded if o.status == GRADE_AGAIN]
    n_diag = sum(len(c.submissions) for c in found if c.kind == "diagnosis")
    written_rows, waiting_rows = _written(by_assignment)

    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>Class report</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>Class report</h1>",
        f'<p class="note">{len(outcomes)} submission(s) of {len(by_assignment)} assignment(s) in '
        f"<code>{e(str(course_dir))}</code>: {len(outcomes) - len(not_graded)} graded, {len(not_graded)} not graded. "
        "Grades: <code>grades.csv</code>; each student's feedback: <code>feedback/&lt;student&gt;/&lt;assignment&gt;/"
        "</code>.</p>",
        "<h2>Summary</h2>",
        _table(["assignment", "submissions", "graded", "not graded", "mean", "median", "max", "full marks", "zero",
                "written waiting"], summary),
        "<h2>Scores</h2>",
        f'<img src="{FIG_SCORES}" alt="score histogram per assignment">',
        "<h2>Failure rate per part</h2>",
        '<p class="note">Share of the graded submissions that lost points on each test cell.</p>',
        f'<img src="{FIG_PARTS}" alt="failure rate per test cell">',
        _table(["assignment", "test cell", "failure rate", "failed / graded"], part_rows),
        "<h2>Most frequent causes of failure</h2>",
        f'<p class="note">From the first line of each failed test cell\'s error. A "diagnosed bug" is the '
        f"Diagnosis: sentence written by the hidden checks ({n_diag} submission(s) got one); other causes are read "
        "from the error itself. Counts: submissions that have the cause, and failed test cells.</p>",
        f'<img src="{FIG_BUGS}" alt="most frequent causes of failure">',
        _table(["cause", "kind", "submissions", "failed tests", "where", "example"], cause_rows),
        "<h2>Slowest submissions</h2>",
        '<p class="note">Wall-clock seconds of each submission\'s autograde (kernel start included), measured '
        "while the others ran in parallel.</p>",
        f'<img src="{FIG_SLOW}" alt="slowest submissions">',
        _table(["student", "assignment", "seconds", "status", "score or reason"], slow_rows),
        "<h2>Written answers, graded by people</h2>",
        '<p class="note">Graded in the formgrader (Manual Grading); then <code>python -m autograder feedback</code> '
        "(or <code>exchange feedback</code>) puts the points into the feedback, grades.csv and this page. A score "
        "with an answer still waiting is the score so far (grades.csv: status <code>incomplete</code>). Blank answers "
        "score 0 without a person.</p>",
        _table(["assignment", "question", "points", "graded", "waiting", "mean of graded"], written_rows)
        if written_rows else "<p>No written answers in these assignments.</p>",
        (f"<h3>Waiting for a person ({sum(len(r[2].split(', ')) for r in waiting_rows)} answer(s))</h3>"
         + _table(["student", "assignment", "questions"], waiting_rows[:TOP_WAITING])
         + (f'<p class="note">… and {len(waiting_rows) - TOP_WAITING} more submission(s).</p>'
            if len(waiting_rows) > TOP_WAITING else "")) if waiting_rows else "",
        f"<h2>Could not be graded ({len(not_graded)})</h2>",
        (f'<p class="note"><b>{len(again)} could not be trusted</b> (a grader fault, not the student\'s): they have '
         "no score; grade them again.</p>") if again else "",
        _table(["student", "assignment", "reason"], ng_rows) if ng_rows else "<p>Every submission was graded.</p>",
        "</body></html>",
    ]
    out = course_dir / HTML_NAME
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


def _written(by_assignment: dict) -> tuple[list[list], list[list]]:
    """Rows per written question (points, graded, waiting, mean of graded) and per submission still waiting."""
    rows, waiting = [], []
    for a in sorted(by_assignment):
        graded = [o for o in by_assignment[a] if o.status == "graded"]
        questions = sorted({q for o in graded for q in o.written})
        for q in questions:
            done = [o.written[q][0] for o in graded if q in o.written and q not in o.pending
                    and o.written[q][0] is not None]
            top = max(o.written[q][1] for o in graded if q in o.written)
            rows.append([a, q, f"{top:g}", len(done), sum(q in o.pending for o in graded),
                         f"{statistics.mean(done):.2f}" if done else "-"])
        waiting += [[o.student, a, ", ".join(o.pending)] for o in sorted(graded, key=lambda o: o.student)
                    if o.pending]
    return rows, waiting


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m autograder report COURSE_DIR   (the directory holding outcomes.json)", file=sys.stderr)
        return 2
    course = Path(argv[0])
    outcomes = json.loads((course / "outcomes.json").read_text())
    print(write_report(course, outcomes))
    return 0
