import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# nbgrader runs `alembic` as a program: the venv's bin must be on PATH even when pytest is called by full path.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def written_points(assignment: str) -> float:
    """Points of an assignment's written answers (a person grades them; autograde leaves them waiting)."""
    import nbformat
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return float(sum(c.metadata["nbgrader"]["points"] for c in nb.cells if c.cell_type == "markdown"
                     and c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution")))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
