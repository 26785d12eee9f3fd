"""A helper for the tests that kill a running kernel or its worker."""
from pathlib import Path


def keep_busy(notebook: Path, seconds: int) -> None:
    """One more cell (no points) at the end of ``notebook``: its kernel runs ``seconds`` longer, so a test that kills
    a running kernel (or its worker) finds one; a demo notebook alone now runs in well under a second."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})"))
    nbformat.write(nb, notebook)
