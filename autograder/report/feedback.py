"""What students see in their feedback: points and diagnoses, not the hidden tests.

nbgrader's generate_feedback renders the autograded notebook, hidden tests included. ``CleanFeedback`` runs first:
in every test cell it replaces the hidden-test region with a one-line note, and cuts each error's traceback down to
its last line, the AssertionError that the check wrote for the student (a full traceback would quote hidden code).
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

HIDDEN_NOTE = "# (hidden tests ran here: they try your functions on random inputs drawn at grading time)"


class CleanFeedback(NbGraderPreprocessor):
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
