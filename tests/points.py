"""Points of the course's notebooks that tests need: what a person grades, and so what autograde leaves waiting.
(A module of its own: ``conftest`` names tests/conftest.py or tests/browser/conftest.py, depending on what runs.)"""
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def written_points(assignment: str) -> float:
    """Points of an assignment's written answers (a person grades them; autograde leaves them waiting)."""
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return float(sum(c.metadata["nbgrader"]["points"] for c in nb.cells if c.cell_type == "markdown"
                     and c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution")))
