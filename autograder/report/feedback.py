"""What students see in their feedback: points and diagnoses, not the hidden tests.

nbgrader's generate_feedback renders the autograded notebook, hidden tests included. ``CleanFeedback`` runs first:
in every test cell it replaces the hidden-test region with a one-line note, and cuts each error's traceback down to
its last line, the AssertionError that the check wrote for the student (a full traceback would quote hidden code).
It also drops the graders' rubric cells (``RUBRIC_KEY``, added under written answers at autograde). ``MarkWaiting``
runs after nbgrader's GetGrades: under a written answer no person has graded yet it says so, since nbgrader's page
would show such an answer as "0.0" points.

``FeedbackExporter`` (``GenerateFeedback.exporter_class``) is nbconvert's HTML exporter with nbgrader's feedback
template, made cheaper per student: its Jinja environment (the compiled templates) is built once per process and
shared by every page; the syntax highlighting of a cell's source is remembered (the test cells and the given code
are the same text for every student); and the page is not parsed again with BeautifulSoup only to add ``alt`` text
to images and ``tabindex`` to cells: two regular expressions do that on the rendered text.
"""
from __future__ import annotations

import re

from nbconvert.exporters import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbgrader.preprocessors import NbGraderPreprocessor

HIDDEN_NOTE = "# (hidden tests ran here: they try your functions on random inputs drawn at grading time)"
#: Cell metadata key of a graders' rubric cell (autograder/grading/written.py); its value is the answer's grade_id.
RUBRIC_KEY = "backprop_rubric"
WAITING_NOTE = ("**Not graded yet.** A person has not graded this written answer yet: its points are not in the "
                "score above. Your feedback will be written again when it has been graded.")


class CleanFeedback(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not c.metadata.get(RUBRIC_KEY)]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            lines, out, hidden = cell.source.split("\n"), [], False
            for line in lines:
                if "BEGIN HIDDEN TESTS" in line:
                    hidden = True
                    out.append(HIDDEN_NOTE)
                elif "END HIDDEN TESTS" in line:
                    hidden = False
                elif not hidden:
                    out.append(line)
            cell.source = "\n".join(out)
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class MarkWaiting(NbGraderPreprocessor):
    """A note under every written answer that still waits for a person (the gradebook's ``needs_manual_grade``)."""

    def preprocess(self, nb, resources):
        from nbformat.v4 import new_markdown_cell
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        cells = []
        with Gradebook(info["db_url"]) as gb:
            for cell in nb.cells:
                cells.append(cell)
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type == "markdown" and meta.get("grade") and meta.get("solution"):
                    grade = gb.find_grade(meta["grade_id"], info["notebook"], info["assignment"], info["student"])
                    if grade.needs_manual_grade:
                        cells.append(new_markdown_cell(WAITING_NOTE))
        nb.cells = cells
        return nb, resources


_ENVIRONMENTS: dict = {}   # (template paths, extension) -> the Jinja environment, for the life of the process
_IMG_NO_ALT = re.compile(r"<img(?![^>]*\balt=)")
_FOCUSABLE = re.compile(r'(<div class="[^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*")(?![^>]*tabindex)')
NO_ALT = "No description has been provided for this image"


_HIGHLIGHTED: dict = {}   # (lexer, options, language, magics, source) -> nbconvert's highlighted HTML of that source
_HIGHLIGHTED_MAX = 4000


class _Remembered:
    """nbconvert's ``highlight_code`` filter, remembering its answers: most cells (the tests, the given code) are the
    same text in every student's page, and pygments was the largest part of a page's time."""

    def __init__(self, highlight):
        self.highlight = highlight

    def __call__(self, source, language=None, metadata=None):
        h = self.highlight
        key = (h.pygments_lexer, repr(h.extra_formatter_options), language,
               (metadata or {}).get("magics_language"), source)
        out = _HIGHLIGHTED.get(key)
        if out is None:
            if len(_HIGHLIGHTED) >= _HIGHLIGHTED_MAX:
                _HIGHLIGHTED.clear()
            out = _HIGHLIGHTED[key] = h(source, language, metadata)
        return out


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTMLExporter for the feedback pages, with its template environment compiled once per process and
    no second parse of the page. Every page is rendered by one thread at a time (nbgrader's converter), so the
    per-page filters it registers (``highlight_code``, ``filter_data_type``) are set again before each render."""

    @property
    def environment(self):
        key = (tuple(self.template_paths), self.template_extension, self.template_name,
               tuple(self.extra_template_basedirs), tuple(self.extra_template_paths))
        env = _ENVIRONMENTS.get(key)
        if env is None:
            env = _ENVIRONMENTS[key] = self._create_environment()
        return env

    def from_notebook_node(self, nb, resources=None, **kw):
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", _Remembered(Highlight2HTML(pygments_lexer=lexer, parent=self))))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        html = _IMG_NO_ALT.sub(f'<img alt="{NO_ALT}"', html)
        return _FOCUSABLE.sub(r'\1 tabindex="0"', html), resources
