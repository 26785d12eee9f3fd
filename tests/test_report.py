"""The class report from Outcome objects built by hand (no nbgrader run): files, counts, bugs, slowest, reasons."""
import json
import re
import struct
from html.parser import HTMLParser

import pytest

from autograder.report import causes, page
from autograder.outcome import Outcome

A, B = "01_chain_rule", "02_backprop_depth"
SIGN = ("AssertionError: dL/d(w1, w2) is wrong: relative error 1.00e+00 against the numerical gradient (tolerance "
        "1e-06). Diagnosis: sign error. Your values are exactly the negative of the true gradient; check dC/da")
TRANSPOSE = ("AssertionError: dJ/dW^1 is wrong: relative error 3.1e-01. Diagnosis: missing transpose. The error "
             "travels back through (W^{m+1})^T delta^{m+1}. With W^{m+1} instead, square layers")
FACTOR = ("AssertionError: dC/dw is wrong: relative error 2.0e-01. Diagnosis: every entry is off by the same factor "
          "1.37: a")
BLANK = "AssertionError: `sigmoid` is not implemented yet: replace `raise NotImplementedError()` with your code."


def cells(names, failed, points=1.0):
    return {n: (0.0 if n in failed else points, points) for n in names}


PARTS_A = ["test_sigmoid", "test_dC_dw", "test_backprop"]
PARTS_B = ["test_deltas", "test_grads"]


def make_outcomes():
    out = [
        # assignment A, max 3: two perfect, two with the sign error, one blank, one factor slip, two not graded
        Outcome("ada", A, 3, 3, seconds=4.0, cells=cells(PARTS_A, [])),
        Outcome("abe", A, 3, 3, seconds=3.5, cells=cells(PARTS_A, [])),
        Outcome("ben", A, 2, 3, seconds=5.0, cells=cells(PARTS_A, ["test_backprop"]),
                failures={"test_backprop": SIGN}),
        Outcome("bea", A, 1, 3, seconds=6.5, cells=cells(PARTS_A, ["test_dC_dw", "test_backprop"]),
                failures={"test_dC_dw": SIGN, "test_backprop": SIGN}),
        Outcome("cy", A, 0, 3, seconds=2.0, cells=cells(PARTS_A, PARTS_A),
                failures={g: BLANK for g in PARTS_A}),
        Outcome("fay", A, 2, 3, seconds=3.0, cells=cells(PARTS_A, ["test_dC_dw"]), failures={"test_dC_dw": FACTOR}),
        Outcome("hal", A, 0, 3, status="not graded", seconds=61.0,
                reason="hang: the notebook ran past the 60 s limit"),
        Outcome("ren", A, 0, 3, status="not graded", reason="missing notebook 01_chain_rule.ipynb (found x.ipynb: "
                                                            "renamed?)"),
        # assignment B, max 4
        Outcome("ada", B, 4, 4, seconds=9.0, cells=cells(PARTS_B, [], 2.0)),
        Outcome("ben", B, 2, 4, seconds=12.0, cells=cells(PARTS_B, ["test_grads"], 2.0),
                failures={"test_grads": TRANSPOSE}),
        Outcome("cy", B, 0, 4, seconds=7.0, cells=cells(PARTS_B, PARTS_B, 2.0),
                failures={"test_deltas": "NameError: name 'backprop' is not defined",
                          "test_grads": "wrote to stderr: RuntimeWarning: overflow encountered in exp"}),
    ]
    return out


class Parse(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.tables, self._row, self._cell, self._in = [], [], None, None, False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs)["src"])
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
            self.tables[-1].append(self._row)
        elif tag in ("td", "th"):
            self._cell = ""
            self._in = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._row.append(self._cell)
            self._in = False

    def handle_data(self, data):
        if self._in:
            self._cell += data


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR" and data.rstrip(b"\x00")[-8:-4] == b"IEND"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    path = page.write_report(course, make_outcomes())
    p = Parse()
    p.feed(path.read_text(encoding="utf-8"))
    return course, path, path.read_text(encoding="utf-8"), p.imgs, p.tables


def test_files_exist_next_to_the_html_and_are_valid_pngs(written):
    course, path, _, imgs, _ = written
    assert path == course / "report.html"
    assert len(imgs) == 4
    for src in imgs:
        assert "/" not in src, "figures are referenced by a relative path next to the HTML"
        w, h = png_size(course / src)
        assert w > 200 and h > 100
    from matplotlib.image import imread
    assert imread(course / page.FIG_SCORES).ndim == 3


def test_summary_counts(written):
    _, _, _, _, tables = written
    summary = tables[0]
    assert summary[0][:4] == ["assignment", "submissions", "graded", "not graded"]
    rows = {r[0]: r for r in summary[1:]}
    assert rows[A][1:4] == ["8", "6", "2"]
    assert rows[A][4] == f"{(3 + 3 + 2 + 1 + 0 + 2) / 6:.1f}"  # mean of the graded scores
    assert rows[A][7:9] == ["2", "1"]   # full marks, zero
    assert rows[B][1:4] == ["3", "3", "0"]


def test_failure_rate_per_part(written):
    _, _, _, _, tables = written
    parts = next(t for t in tables if t[0][:2] == ["assignment", "test cell"])
    got = {(r[0], r[1]): (r[2], r[3]) for r in parts[1:]}
    assert got[(A, "test_backprop")] == ("50%", "3/6")   # ben, bea, cy
    assert got[(A, "test_dC_dw")] == ("50%", "3/6")      # bea, cy, fay
    assert got[(A, "test_sigmoid")] == ("17%", "1/6")    # cy
    assert got[(B, "test_grads")] == ("67%", "2/3")


def test_bugs_are_named_grouped_and_counted(written):
    _, _, _, _, tables = written
    causes = next(t for t in tables if t[0][0] == "cause")
    rows = {r[0]: r for r in causes[1:]}
    assert rows["sign error"][1:4] == ["diagnosed bug", "2", "3"]   # 2 submissions, 3 failed tests
    assert rows["missing transpose of W^{m+1}"][1:3] == ["diagnosed bug", "1"]
    assert rows["every entry is off by the same factor n"][1] == "diagnosed bug"
    assert rows["not implemented (left blank)"][1:4] == ["other", "1", "3"]
    assert any(k.startswith("a name is not defined") for k in rows)
    assert any(k.startswith("wrote to stderr") for k in rows)
    # most frequent first: the sign error (2 submissions) leads
    assert causes[1][0] == "sign error"


def test_slowest_submissions_in_order(written):
    _, _, _, _, tables = written
    slow = next(t for t in tables if t[0][:3] == ["student", "assignment", "seconds"])
    got = [(r[0], r[1], r[2]) for r in slow[1:]]
    assert got[:3] == [("hal", A, "61.0"), ("ben", B, "12.0"), ("ada", B, "9.0")]
    assert ("ren", A) not in [(s, a) for s, a, _ in got], "a submission never run has no time to rank"


def test_not_graded_are_listed_with_reasons(written):
    _, _, html, _, tables = written
    ng = tables[-1]
    assert ng[0] == ["student", "assignment", "reason"]
    assert {(r[0], r[2]) for r in ng[1:]} == {
        ("hal", "hang: the notebook ran past the 60 s limit"),
        ("ren", "missing notebook 01_chain_rule.ipynb (found x.ipynb: renamed?)")}
    assert "Could not be graded (2)" in html


def test_html_is_escaped(tmp_path):
    o = Outcome("<script>", A, 0, 1, status="not graded", reason="invalid notebook file (<b>JSON</b>)")
    html = page.write_report(tmp_path, [o]).read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_accepts_outcomes_json_and_empty_classes(tmp_path):
    outs = make_outcomes()
    (tmp_path / "outcomes.json").write_text(json.dumps([o.__dict__ for o in outs], default=list))
    assert page.main([str(tmp_path)]) == 0
    assert (tmp_path / "report.html").exists()
    empty = tmp_path / "empty"
    html = page.write_report(empty, []).read_text()
    assert "Every submission was graded" in html
    for name in (page.FIG_SCORES, page.FIG_PARTS, page.FIG_BUGS, page.FIG_SLOW):
        png_size(empty / name)


def test_parts_follow_the_notebook_order_when_the_source_is_there(tmp_path):
    import nbformat

    from autograder.authoring import nbauthor
    src = tmp_path / "source" / A / f"{A}.ipynb"
    nbauthor.notebook([nbauthor.tests(g, 1, "assert True") for g in ["test_backprop", "test_sigmoid", "test_dC_dw"]],
                      src)
    nbformat.read(src, as_version=4)
    rates = causes.failure_rates(make_outcomes(), tmp_path)
    assert [g for g, *_ in rates[A]] == ["test_backprop", "test_sigmoid", "test_dC_dw"]


@pytest.mark.parametrize("message, label, kind", [
    (SIGN, "sign error", "diagnosis"),
    ("AssertionError: x. Diagnosis: 32 times too large, the batch size. The cost", "n times too large, the batch size",
     "diagnosis"),
    ("AssertionError: x. Diagnosis: factor of 2 too small. The square", "factor of 2 too small", "diagnosis"),
    ("NotImplementedError: ", "not implemented (left blank)", "other"),
    ("AssertionError: ", "AssertionError without a message", "other"),
    ("", "failed without a message", "other"),
    ("integrity: its hidden check nb01.check_sigmoid never reported to the judge (tampered with, or skipped)",
     "a hidden check never reported to the judge (tampered with, or skipped)", "other"),
    ("integrity: dC/dw is wrong: relative error 1e-1. Diagnosis: sign error. Your values", "sign error", "diagnosis"),
    ("AssertionError: W has shape (3, 2), expected (2, 3). It is the transpose of the right shape: check",
     "wrong shape: transposed", "other"),
    ("TypeError: unsupported operand type(s) for +: 'int' and 'str'", "TypeError: unsupported operand type(s) for +",
     "other"),
])
def test_bug_label(message, label, kind):
    assert causes.bug_label(message) == (label, kind)


def test_every_known_backprop_bug_gets_its_name():
    from autograder.checks.diagnose import BACKPROP_BUGS
    for key, sentence in BACKPROP_BUGS.items():
        msg = f"AssertionError: dJ/dW^2 is wrong: relative error 1e-1. {sentence}"[:400]
        name = causes.BUG_NAMES.get(key, key.replace("_", " "))  # a bug added later still gets a name
        assert causes.bug_label(msg) == (name, "diagnosis"), key
    assert not re.search(r"\d{3}", " ".join(causes.BUG_NAMES.values()))
