"""The class report: one HTML page with PNG figures, written next to grades.csv in the course run directory.

    write_report(course_dir, outcomes) -> course_dir/report.html (+ course_dir/report-*.png)
    python -m autograder.report COURSE_DIR      the same, from the COURSE_DIR/outcomes.json that grade() wrote

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
import re
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .grade import Outcome

HTML_NAME = "report.html"
FIG_SCORES = "report-scores.png"
FIG_PARTS = "report-failure-rate.png"
FIG_BUGS = "report-bugs.png"
FIG_SLOW = "report-slowest.png"
TOP_BUGS = 12
TOP_SLOW = 10

#: Readable names for the bugs ``autograder.diagnose.BACKPROP_BUGS`` can recognise (matched on their sentence).
BUG_NAMES = {
    "no_transpose": "missing transpose of W^{m+1}",
    "no_fprime_hidden": "f'(z^m) missing in the hidden recursion",
    "no_fprime_output": "f'(z^L) missing at the output layer",
    "fprime_of_a": "f' evaluated at a^m instead of z^m",
    "fprime_of_a_hidden": "f' evaluated at a^m instead of z^m (hidden recursion)",
    "no_average": "missing 1/m averaging",
    "double_average": "averaged twice (1/m twice)",
    "sign": "sign error",
    "own_activation": "a^m used where a^{m-1} is needed",
    "bias_axis": "bias gradient summed on the wrong axis",
    "bias_not_summed": "bias gradient not summed over the batch",
}

# (pattern in the failure line, label) for failures that carry no "Diagnosis:", checked in order.
_CAUSES = [
    (re.compile(r"NotImplementedError|is not implemented yet"), "not implemented (left blank)"),
    (re.compile(r"^NameError"), "a name is not defined (a cell it needs was left blank or failed)"),
    (re.compile(r"CellTimeoutError|per-cell time limit"), "cell time limit (an endless loop?)"),
    (re.compile(r"MemoryError"), "out of memory"),
    (re.compile(r"^wrote to stderr"), "wrote to stderr (a warning zeroes the cell)"),
    (re.compile(r"raised a numerical warning"), "numerical warning (overflow, division by zero)"),
    (re.compile(r"did you forget a `return`"), "returns None (missing return)"),
    (re.compile(r"should be a function"), "not a function"),
    (re.compile(r"It is the transpose of the right shape"), "wrong shape: transposed"),
    (re.compile(r"has shape .* expected"), "wrong shape"),
    (re.compile(r"contains NaN or inf"), "NaN or inf in the result"),
]
_NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+e[-+]?\d+|\d{2,}")


@dataclass
class Cause:
    label: str
    kind: str                         # "diagnosis" | "other"
    tests: int = 0                    # failed test cells with this cause
    submissions: set = field(default_factory=set)   # (assignment, student)
    cells: Counter = field(default_factory=Counter)  # "assignment/test grade_id" -> count
    example: str = ""


def _known_bug_prefixes() -> dict[str, str]:
    """A prefix of each known diagnosis sentence (after "Diagnosis: ") -> readable bug name."""
    try:
        from .diagnose import BACKPROP_BUGS
    except Exception:  # the report must not depend on the checks importing cleanly
        return {}
    out = {}
    for key, sentence in BACKPROP_BUGS.items():
        text = sentence.split("Diagnosis:", 1)[-1].strip()
        out[text[:40]] = BUG_NAMES.get(key, key.replace("_", " "))
    return out


def _first_clause(text: str, limit: int = 70) -> str:
    text = text.strip()
    for sep in (". ", ": ", "; "):
        if sep in text:
            text = text.split(sep, 1)[0]
    text = text.rstrip(".:; ")
    text = _NUMBER.sub("n", text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bug_label(message: str, known: dict[str, str] | None = None) -> tuple[str, str]:
    """(label, kind) for one failure line of ``Outcome.failures``: the diagnosed bug when the message has a
    "Diagnosis: ..." sentence (kind "diagnosis"), else a coarse cause read from the error (kind "other")."""
    known = _known_bug_prefixes() if known is None else known
    msg = (message or "").strip()
    if msg.startswith("integrity:"):  # the judge did not pass a cell nbgrader scored (grade.reconcile)
        rest = msg[len("integrity:"):].strip()
        if "never reported to the judge" in rest:
            return "a hidden check never reported to the judge (tampered with, or skipped)", "other"
        msg = rest
    if "Diagnosis:" in msg:
        diag = msg.split("Diagnosis:", 1)[1].strip()
        for prefix, name in known.items():
            if diag.startswith(prefix):
                return name, "diagnosis"
        return _first_clause(diag), "diagnosis"
    if not msg:
        return "failed without a message", "other"
    for pattern, label in _CAUSES:
        if pattern.search(msg):
            return label, "other"
    m = re.match(r"^(\w+):\s*(.*)$", msg, re.S)
    if not m:
        return _first_clause(msg), "other"
    ename, evalue = m.group(1), m.group(2).strip()
    if not evalue:
        return f"{ename} without a message", "other"
    if ename == "AssertionError":
        return _first_clause(evalue), "other"
    return f"{ename}: {_first_clause(evalue, 50)}", "other"


def causes(outcomes: list[Outcome]) -> list[Cause]:
    """Every failure of every graded submission, grouped by cause; most frequent (submissions, then tests) first."""
    known = _known_bug_prefixes()
    groups: dict[str, Cause] = {}
    for o in outcomes:
        if o.status != "graded":
            continue
        for gid, message in o.failures.items():
            label, kind = bug_label(message, known)
            c = groups.setdefault(label, Cause(label, kind, example=message))
            c.tests += 1
            c.submissions.add((o.assignment, o.student))
            c.cells[f"{o.assignment}/{gid}"] += 1
    return sorted(groups.values(), key=lambda c: (-len(c.submissions), -c.tests, c.label))


def _as_outcome(o) -> Outcome:
    if isinstance(o, Outcome):
        return o
    d = dict(o)
    d["cells"] = {k: tuple(v) for k, v in (d.get("cells") or {}).items()}
    d["failures"] = dict(d.get("failures") or {})
    known = set(Outcome.__dataclass_fields__)
    return Outcome(**{k: v for k, v in d.items() if k in known})


def _part_order(course_dir: Path, assignment: str, seen: list[str]) -> list[str]:
    """The test cells of an assignment in notebook order (from the course's source notebook when it is there)."""
    order = []
    src = course_dir / "source" / assignment / f"{assignment}.ipynb"
    if src.exists():
        try:
            nb = json.loads(src.read_text())
            for cell in nb.get("cells", []):
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if meta.get("grade") and cell.get("cell_type") == "code" and meta.get("grade_id") in seen:
                    order.append(meta["grade_id"])
        except (OSError, ValueError):
            order = []
    return order + [g for g in seen if g not in order]


def failure_rates(outcomes: list[Outcome],
                  course_dir: Path | None = None) -> dict[str, list[tuple[str, float, int, int]]]:
    """assignment -> [(test grade_id, failure rate, failed, graded)] over the graded submissions, in notebook order."""
    seen: dict[str, list[str]] = defaultdict(list)
    failed: Counter = Counter()
    total: Counter = Counter()
    for o in outcomes:
        if o.status != "graded":
            continue
        for gid, (score, max_score) in o.cells.items():
            if gid not in seen[o.assignment]:
                seen[o.assignment].append(gid)
            total[(o.assignment, gid)] += 1
            failed[(o.assignment, gid)] += score < max_score
    out = {}
    for a in sorted(seen):
        order = _part_order(course_dir, a, seen[a]) if course_dir else seen[a]
        out[a] = [(g, failed[(a, g)] / total[(a, g)], failed[(a, g)], total[(a, g)]) for g in order]
    return out


# ---------------------------------------------------------------- figures

def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, format="png")


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_scores(by_assignment: dict[str, list[Outcome]], path: Path) -> None:
    names = sorted(by_assignment) or ["(no submissions)"]
    fig = _figure(6.0, 2.6 * len(names))
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    for ax, a in zip(axes, names):
        subs = by_assignment.get(a, [])
        if not subs:
            _empty(ax, "no submissions")
            continue
        top = max([o.max_score for o in subs] + [o.score for o in subs] + [1.0])
        width = max(1.0, top / 20)
        edges = [i * width for i in range(int(top / width) + 2)]
        graded = [o.score for o in subs if o.status == "graded"]
        not_graded = [0.0 for o in subs if o.status != "graded"]
        ax.hist([graded, not_graded], bins=edges, stacked=True, color=["#4c72b0", "#c44e52"],
                label=[f"graded ({len(graded)})", f"not graded, 0 points ({len(not_graded)})"], align="left",
                rwidth=0.85)
        ax.set_title(f"{a}: scores of {len(subs)} submissions (max {top:g})")
        ax.set_xlabel("score")
        ax.set_ylabel("submissions")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8, loc="best")
    _save(fig, path)


def plot_failure_rates(rates: dict[str, list], path: Path) -> None:
    rows = sum(len(v) for v in rates.values())
    fig = _figure(7.0, 1.0 + 0.28 * max(rows, 3) + 0.6 * len(rates))
    if not rows:
        _empty(fig.add_subplot(), "no graded submission")
        _save(fig, path)
        return
    axes = fig.subplots(len(rates), 1, squeeze=False,
                        gridspec_kw={"height_ratios": [max(len(v), 1) for v in rates.values()]})[:, 0]
    for ax, (a, parts) in zip(axes, rates.items()):
        labels = [g for g, *_ in parts][::-1]
        values = [100 * r for _, r, *_ in parts][::-1]
        bars = ax.barh(labels, values, color="#dd8452")
        for bar, (_, _, f, n) in zip(bars, parts[::-1]):
            ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, f"{f}/{n}", va="center", fontsize=7)
        ax.set_xlim(0, 112)
        ax.set_title(f"{a}: graded submissions that lost points, per test cell", fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
    axes[-1].set_xlabel("failure rate (%)")
    _save(fig, path)


def plot_causes(found: list[Cause], path: Path) -> None:
    top = found[:TOP_BUGS]
    fig = _figure(8.0, 1.2 + 0.35 * max(len(top), 3))
    ax = fig.add_subplot()
    if not top:
        _empty(ax, "no failed test")
    else:
        labels = [c.label for c in top][::-1]
        values = [len(c.submissions) for c in top][::-1]
        colors = ["#c44e52" if c.kind == "diagnosis" else "#8c8c8c" for c in top][::-1]
        ax.barh(labels, values, color=colors)
        ax.set_xlabel("submissions")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(axis="y", labelsize=8)
        fig.suptitle("most frequent causes of failure (red: a bug the hidden checks diagnosed)", fontsize=10)
    _save(fig, path)


def plot_slowest(slow: list[Outcome], path: Path) -> None:
    fig = _figure(7.0, 1.2 + 0.3 * max(len(slow), 3))
    ax = fig.add_subplot()
    if not slow:
        _empty(ax, "no timing recorded")
    else:
        labels = [f"{o.student} / {o.assignment}" for o in slow][::-1]
        values = [o.seconds for o in slow][::-1]
        colors = ["#4c72b0" if o.status == "graded" else "#c44e52" for o in slow][::-1]
        ax.barh(labels, values, color=colors)
        ax.set_xlabel("seconds (autograde and kernel, wall clock)")
        ax.tick_params(axis="y", labelsize=8)
        fig.suptitle("slowest submissions (red: not graded)", fontsize=10)
    _save(fig, path)


# ---------------------------------------------------------------- HTML

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
    outcomes = [_as_outcome(o) for o in outcomes]
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
                        sum(1 for o in graded if top and o.score >= top), sum(1 for o in graded if o.score == 0)])
    part_rows = [[a, g, f"{100 * r:.0f}%", f"{f}/{n}"] for a, parts in rates.items() for g, r, f, n in parts]
    cause_rows = [[c.label, "diagnosed bug" if c.kind == "diagnosis" else "other", len(c.submissions), c.tests,
                   ", ".join(f"{k} ({v})" if v > 1 else k for k, v in c.cells.most_common(4))
                   + (" …" if len(c.cells) > 4 else ""), c.example[:200]] for c in found[:TOP_BUGS]]
    slow_rows = [[o.student, o.assignment, f"{o.seconds:.1f}", o.status,
                  f"{o.score:g} / {o.max_score:g}" if o.status == "graded" else o.reason] for o in slow]
    ng_rows = [[o.student, o.assignment, o.reason or "(no reason recorded)"] for o in not_graded]
    n_diag = sum(len(c.submissions) for c in found if c.kind == "diagnosis")

    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>Class report</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>Class report</h1>",
        f'<p class="note">{len(outcomes)} submission(s) of {len(by_assignment)} assignment(s) in '
        f"<code>{e(str(course_dir))}</code>: {len(outcomes) - len(not_graded)} graded, {len(not_graded)} not graded. "
        "Grades: <code>grades.csv</code>; each student's feedback: <code>feedback/&lt;student&gt;/&lt;assignment&gt;/"
        "</code>.</p>",
        "<h2>Summary</h2>",
        _table(["assignment", "submissions", "graded", "not graded", "mean", "median", "max", "full marks", "zero"],
               summary),
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
        f"<h2>Could not be graded ({len(not_graded)})</h2>",
        _table(["student", "assignment", "reason"], ng_rows) if ng_rows else "<p>Every submission was graded.</p>",
        "</body></html>",
    ]
    out = course_dir / HTML_NAME
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m autograder.report COURSE_DIR   (the directory holding outcomes.json)", file=sys.stderr)
        return 2
    course = Path(argv[0])
    outcomes = json.loads((course / "outcomes.json").read_text())
    print(write_report(course, outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
