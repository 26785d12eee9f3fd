"""The grading worker checks nbgrader's cell metadata with a validator built once per schema
(``worker.cache_metadata_validation``) instead of ``jsonschema.validate``'s new one per cell: the same verdicts and
the same errors as nbgrader's own check, on every cell of every source notebook and on broken metadata."""
import copy

import nbformat
import pytest
from nbgrader.nbgraderformat import common
from nbgrader.nbgraderformat.v3 import MetadataValidatorV3

from autograder.grading import worker
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb"))


def _broken_cells():
    """Graded cells of 01 with their metadata broken in the ways a hand edit breaks it."""
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    graded = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    for change in ({"points": "two"}, {"grade": "yes"}, {"grade_id": 7}, {"locked": None}, {"cell_type": "maths"}):
        cell = copy.deepcopy(graded)
        cell.metadata.nbgrader.update(change)
        yield cell
    cell = copy.deepcopy(graded)
    del cell.metadata.nbgrader["grade_id"]
    yield cell


def _verdicts(cells):
    out = []
    for cell in cells:
        try:
            MetadataValidatorV3().validate_cell(cell)
            out.append("valid")
        except Exception as e:  # noqa: BLE001  (the error itself is what is compared)
            out.append(f"{type(e).__name__}: {e}")
    return out


def test_cached_validation_gives_nbgraders_verdicts_and_errors(monkeypatch):
    cells = [c for path in NOTEBOOKS for c in nbformat.read(path, as_version=4).cells] + list(_broken_cells())
    before = _verdicts(cells)
    monkeypatch.setattr(common, "jsonschema", common.jsonschema)   # put back after the test
    worker.cache_metadata_validation()
    assert isinstance(common.jsonschema, worker._CachedSchemaValidation)
    after = _verdicts(cells)
    assert after == before
    assert before.count("valid") > 100 and sum(v != "valid" for v in before) == 6, before[-6:]
    assert len(common.jsonschema._validators) == 1, "one validator for nbgrader's one schema, built once"


def test_other_uses_of_the_module_are_the_real_ones(monkeypatch):
    monkeypatch.setattr(common, "jsonschema", common.jsonschema)
    real = common.jsonschema
    worker.cache_metadata_validation()
    assert common.jsonschema.ValidationError is real.ValidationError
    with pytest.raises(real.ValidationError):   # a call with a validator class goes to jsonschema itself
        common.jsonschema.validate(3, {"type": "string"}, real.Draft7Validator)
