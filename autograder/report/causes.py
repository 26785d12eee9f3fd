"""Why submissions lost points, in words an instructor can count: the diagnosed bug, or else what the error says,
grouped; and the failure rate of every part (test cell) of an assignment."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..outcome import Outcome

#: Readable names for the bugs ``autograder.checks.diagnose.BACKPROP_BUGS`` can recognise (matched on their sentence).
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
        from ..checks.diagnose import BACKPROP_BUGS
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


def as_outcome(o) -> Outcome:
    if isinstance(o, Outcome):
        return o
    d = dict(o)
    d["cells"] = {k: tuple(v) for k, v in (d.get("cells") or {}).items()}
    d["failures"] = dict(d.get("failures") or {})
    d["written"] = {k: tuple(v) for k, v in (d.get("written") or {}).items()}
    d["pending"] = list(d.get("pending") or [])
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
