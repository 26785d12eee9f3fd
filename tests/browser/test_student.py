"""A student in JupyterLab: runs assignment 01, reads the visible tests, presses Validate, plays with the explorer.

Three versions of notebook 01: the release (stubs; the student then fills in part A), ada's correct submission and
ben's (a sign slip in backprop_221). Each is run with Run > Run All Cells and then checked with nbgrader's Validate.
"""
from __future__ import annotations

import base64
import os
import statistics
import time
import uuid

import nbformat
import pytest
from autograder.checks.nb01 import DEMO_BUG

from helpers import (ASSIGNMENT, NOTEBOOK, ROOT, cell_index, cells, graded_test_cells, notebook_json, open_notebook,
                      replace_cell_source, run_all, run_cell_and_next, validate, wait_kernel_idle)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RELEASE = f"release/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
ADA = f"students/ada/{ASSIGNMENT}.ipynb"  # a correct submission
BEN = f"students/ben/{ASSIGNMENT}.ipynb"  # the solution with nb01.DEMO_BUG (a sign slip in backprop_221)

NAIVE_SIGMOID = '''def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1.0 - s)
'''
STABLE_SIGMOID = '''def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1.0 - s)
'''


def _ws() -> str:
    return "t" + uuid.uuid4().hex[:10]


def _validate(page, who: str) -> dict:
    t0 = time.monotonic()
    result = validate(page)
    print(f"\n[browser] Validate on {who}: {time.monotonic() - t0:.1f} s, {result['classes'].split()[0]}")
    assert result["title"].strip() == "Validation Results", result
    return result


def _first_error(cs: list[dict]) -> int:
    return next(i for i, c in enumerate(cs) if c["error"])


def test_release_run_all_stops_at_the_first_stub_and_the_visible_tests_teach(page, lab, course):
    nb = notebook_json(course["dir"] / RELEASE)
    open_notebook(page, lab, RELEASE, _ws())
    cs = run_all(page)
    assert len(cs) == len(nb["cells"]), "the page should show every cell of the notebook"

    # Defining the stubs works; the first visible test calls one and stops the run with NotImplementedError, pointing
    # at the student's stub. JupyterLab does not run the cells after an error.
    sig, a1, a2 = (cell_index(nb, g) for g in ("sigmoid", "test_sigmoid", "test_sigmoid_prime"))
    assert (a1, a2) == (sig + 1, sig + 2), "the sigmoid tests should follow the sigmoid cell"
    first = _first_error(cs)
    assert first == a1, f"the first error should be in visible test A.1 (cell {a1}), got cell {first}: {cs[first]}"
    assert "NotImplementedError" in cs[a1]["error"] and "in sigmoid(z)" in cs[a1]["error"], cs[a1]["error"]
    assert all(c["prompt"].isdigit() for c in cs[:a1 + 1] if c["kind"] == "code"), "cells down to A.1 should have run"
    assert all(c["prompt"] == "" for c in cs[a1 + 1:] if c["kind"] == "code"), \
        "after the first error JupyterLab should not run the remaining cells"

    # The student writes the textbook sigmoid: the visible test A.1 explains the overflow at z = -1000.
    replace_cell_source(page, sig, NAIVE_SIGMOID)
    cs = run_cell_and_next(page, sig, 2)
    assert not cs[sig]["error"]
    assert "AssertionError" in cs[a1]["error"] and "overflowed" in cs[a1]["error"], cs[a1]["error"]

    # ... then the stable one from the hint: A.1 and A.2 pass (no error, no stderr).
    replace_cell_source(page, sig, STABLE_SIGMOID)
    cs = run_cell_and_next(page, sig, 3)
    for i in (sig, a1, a2):
        assert cs[i]["prompt"].isdigit() and not cs[i]["error"], f"cell {i} should pass now: {cs[i]}"

    # Validate (it saves first): part A passes now, the other stubs still fail with NotImplementedError.
    result = _validate(page, "release (part A done)")
    assert "validation-failed" in result["classes"] and "NotImplementedError" in result["text"], result["text"][:2000]
    tests = graded_test_cells(nb)
    heads = {gid: "".join(nb["cells"][i]["source"]).splitlines()[0] for i, gid in tests.items()}
    failed = {gid for gid, head in heads.items() if head in result["text"]}
    assert failed == set(tests.values()) - {"test_sigmoid", "test_sigmoid_prime"}, \
        f"Validate should list every visible test but part A's: it lists {sorted(failed)}"


def test_correct_submission_passes_every_visible_test_and_validates(page, lab, course):
    nb = notebook_json(course["dir"] / ADA)
    tests = graded_test_cells(nb)
    assert len(tests) >= 10, tests
    open_notebook(page, lab, ADA, _ws())
    t0 = time.monotonic()
    cs = run_all(page)
    print(f"\n[browser] run all on ada's notebook: {time.monotonic() - t0:.1f} s")
    errors = {i: c["error"][-300:] for i, c in enumerate(cs) if c["error"]}
    assert not errors, f"a correct submission shows errors or stderr: {errors}"
    assert all(c["prompt"].isdigit() for c in cs if c["kind"] == "code"), "every code cell should have run"
    for i, gid in tests.items():
        assert cs[i]["kind"] == "code" and cs[i]["prompt"].isdigit(), f"visible test {gid} did not run"
    assert sum(c["images"] for c in cs) >= 2, "the notebook's figures (activation, losses) should render"

    result = _validate(page, "ada")
    assert "validation-success" in result["classes"], result["text"][:2000]
    assert "Success! Your notebook passes all the tests." in result["text"]


def test_buggy_submission_is_told_where_its_bug_is_and_fails_validation(page, lab, course):
    nb = notebook_json(course["dir"] / BEN)
    tests = graded_test_cells(nb)
    open_notebook(page, lab, BEN, _ws())
    cs = run_all(page)
    first = _first_error(cs)
    assert first in tests, f"the first error should be in a visible test, got cell {first}: {cs[first]}"
    # ben's submission is the solution with DEMO_BUG applied: the first visible test to fail is one it should lose,
    # with an AssertionError that says what to look at; every visible test above it passed.
    loses = DEMO_BUG["loses"]
    assert tests[first] in loses, f"{tests[first]} failed first, not one of {loses}: {cs[first]['error'][-500:]}"
    assert "AssertionError" in cs[first]["error"], cs[first]["error"]
    above = [i for i in tests if i < first]
    assert above and all(cs[i]["prompt"].isdigit() and not cs[i]["error"] for i in above), [tests[i] for i in above]
    print(f"\n[browser] ben reads: {cs[first]['error'].strip().splitlines()[-1]}")

    # Validate lists the failing test cells, each with its source and error: only tests the bug should lose.
    result = _validate(page, "ben")
    assert "validation-failed" in result["classes"] and "The following cell failed:" in result["text"], result
    assert "AssertionError" in result["text"], result["text"][:2000]
    heads = {gid: "".join(nb["cells"][i]["source"]).splitlines()[0] for i, gid in tests.items()}
    failed = sorted(gid for gid, head in heads.items() if head in result["text"])
    print(f"[browser] Validate lists for ben: {failed}")
    assert tests[first] in failed and set(failed) <= set(loses), f"Validate lists {failed}; the bug loses {loses}"


# ---------------------------------------------------------------------------------------------- the explorer

EXPLORER = "explorer_check.ipynb"
IMG = f"{NOTEBOOK} .widget-interact .widget-output .jp-OutputArea-output img"
SLIDER = f"{NOTEBOOK} .widget-interact .widget-slider"


def _explorer_notebook(course_dir) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("The learning-rate explorer."),
                nbformat.v4.new_code_cell("from course.explorer import bowl_explorer\nbowl_explorer()")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, str(course_dir / EXPLORER))


def _img_src(page) -> str:
    return page.locator(IMG).first.get_attribute("src") or ""


def _png(src: str) -> bytes:
    assert src.startswith("data:image/png;base64,"), src[:60]
    data = base64.b64decode(src.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "the plot should be a PNG"
    return data


def _pixels_changed(a: bytes, b: bytes) -> float:
    """The fraction of pixels that differ between two PNGs (1.0 when the size changed: the inline backend crops the
    figure to its contents, so new tick labels can change it)."""
    import io

    import numpy as np
    from PIL import Image

    x, y = (np.asarray(Image.open(io.BytesIO(d)).convert("RGB")) for d in (a, b))
    if x.shape != y.shape:
        return 1.0
    return float(np.mean(np.any(x != y, axis=-1)))


def _settle(page, src_before: str, timeout: float = 30.0, quiet: float = 0.4) -> str:
    """Wait for a new image, then until the kernel is idle and the image has not changed for `quiet` seconds."""
    page.wait_for_function(
        "([sel, old]) => { const i = document.querySelector(sel); return i && i.src && i.src !== old; }",
        arg=[IMG, src_before], timeout=timeout * 1000)
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        wait_kernel_idle(page, timeout * 1000)
        src = _img_src(page)
        if src != last:
            last, since = src, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return src
        time.sleep(0.1)
    raise AssertionError("the plot kept changing")


def _draw_times(etas) -> list[float]:
    """Milliseconds to build the explorer's figure and encode it as the inline backend does, per eta."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.core.pylabtools import print_figure

    from course import explorer

    times = []
    if not hasattr(explorer, "plot_bowl"):  # an internal of the explorer: the breakdown is only a bonus
        return times
    for eta in [etas[0], *etas]:  # the first call warms up (fonts, caches) and is dropped
        t0 = time.perf_counter()
        fig = explorer.plot_bowl(eta)
        print_figure(fig, "png", bbox_inches="tight")
        plt.close(fig)
        times.append(1000 * (time.perf_counter() - t0))
    return times[1:]


# Records, in the page, when a key goes down and when the plot's <img> gets a new src (performance.now(), ms).
_WATCH = """(sel) => {
    window.__bt = {key: null, plots: []};
    document.addEventListener('keydown', () => { window.__bt.key = performance.now(); }, true);
    let last = (document.querySelector(sel) || {}).src;
    new MutationObserver(() => {
        const img = document.querySelector(sel);
        if (img && img.src && img.src !== last) { last = img.src; window.__bt.plots.push(performance.now()); }
    }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}"""


def test_explorer_slider_moves_the_plot(page, lab, course, report_figure):
    if not (ROOT / "course" / "explorer.py").exists():
        pytest.skip("course/explorer.py does not exist yet (the learning-rate explorer is not written)")
    _explorer_notebook(course["dir"])
    open_notebook(page, lab, EXPLORER, _ws())
    run_all(page)

    # The widget renders: a log slider with a readout, and the plot below it.
    # The eta slider is the one labelled eta (the explorer may grow other controls).
    slider = page.locator(SLIDER).filter(has=page.locator(".widget-label", has_text="eta")).first
    slider.wait_for()
    page.locator(IMG).first.wait_for()
    handle, readout = slider.locator(".noUi-handle"), slider.locator(".widget-readout")
    first_src = _settle(page, "")
    first_png = _png(first_src)
    # (aria-valuenow holds the log10 exponent to one decimal only: the readout shows eta itself.)
    value0 = float(readout.text_content())
    errors = [c["error"] for c in cells(page) if c["error"]]
    assert not errors, f"the explorer wrote errors or warnings: {errors}"

    # Keyboard moves, timed in the page from keydown to the new <img>.
    page.evaluate(_WATCH, IMG)
    src, latencies, values = first_src, [], [value0]
    for _ in range(5):
        handle.focus()
        n_plots = page.evaluate("window.__bt.plots.length")
        page.keyboard.press("ArrowRight")
        new = _settle(page, src)
        key, plots = page.evaluate("[window.__bt.key, window.__bt.plots]")
        assert len(plots) > n_plots, "the plot did not change after a slider move"
        latencies.append(plots[n_plots] - key)
        values.append(float(readout.text_content()))
        assert values[-1] > values[-2], f"ArrowRight should raise eta: {values}"
        changed = _pixels_changed(_png(src), _png(new))
        assert changed > 1e-4, f"the image should change after a move: {changed:.2%} of its pixels did"
        src = new

    # A mouse drag to the right end of the track (a large eta: the descent diverges and the picture changes a lot).
    box = handle.bounding_box()
    track = slider.locator(".noUi-target").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + 0.9 * track["width"], box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    dragged = _settle(page, src)
    value_drag = float(readout.text_content())
    assert value_drag > values[-1], f"the drag should raise eta: {values[-1]} -> {value_drag}"
    changed = _pixels_changed(_png(src), _png(dragged))
    assert changed > 1e-3, f"the plot should change a lot after the drag: {changed:.2%} of its pixels did"
    assert _pixels_changed(first_png, _png(dragged)) > 1e-3

    errors = [c["error"] for c in cells(page) if c["error"]]
    assert not errors, f"moving the slider wrote errors or warnings: {errors}"
    med, worst = statistics.median(latencies), max(latencies)
    report_figure("slider->plot latency", f"median {med:.0f} ms, max {worst:.0f} ms over {len(latencies)} moves "
                  f"({', '.join(f'{x:.0f}' for x in latencies)} ms; target <= 250 ms; load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    # Of which: drawing the figure and encoding the PNG (what the kernel does per move), timed here in-process.
    draws = _draw_times(values[1:])
    if draws:
        report_figure("  of which figure + PNG (in-process)", f"median {statistics.median(draws):.0f} ms")
    assert worst < 5000, f"a slider move took {worst:.0f} ms to redraw the plot"


# ------------------------------------------------------------------------------------ the optimizer picker (07)

OPTIM_EXPLORER = "optimizer_explorer_check.ipynb"


def test_optimizer_picker_and_slider_move_the_plot(page, lab, course, report_figure):
    """Notebook 07's explorer: choosing another optimizer and moving eta each redraw the plot, within the budget."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("The optimizer explorer."),
                nbformat.v4.new_code_cell("from course.optim_explorer import optimizer_explorer\noptimizer_explorer()")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, str(course["dir"] / OPTIM_EXPLORER))
    open_notebook(page, lab, OPTIM_EXPLORER, _ws())
    run_all(page)
    slider = page.locator(SLIDER).filter(has=page.locator(".widget-label", has_text="eta")).first
    picker = page.locator(f"{NOTEBOOK} .widget-interact .widget-dropdown").filter(
        has=page.locator(".widget-label", has_text="optimizer")).first.locator("select")
    slider.wait_for()
    picker.wait_for()
    page.locator(IMG).first.wait_for()
    src = _settle(page, "")
    errors = [c["error"] for c in cells(page) if c["error"]]
    assert not errors, f"the explorer wrote errors or warnings: {errors}"
    page.evaluate(_WATCH, IMG)
    latencies = []
    for name in ["momentum", "RMSProp", "Adam", "SGD"]:
        n_plots = page.evaluate("window.__bt.plots.length")
        page.evaluate("window.__bt.key = performance.now()")
        picker.select_option(name)
        new = _settle(page, src)
        key, plots = page.evaluate("[window.__bt.key, window.__bt.plots]")
        assert len(plots) > n_plots, f"the plot did not change after picking {name}"
        latencies.append(plots[n_plots] - key)
        assert _pixels_changed(_png(src), _png(new)) > 1e-3, f"picking {name} should draw another path"
        src = new
    handle = slider.locator(".noUi-handle")
    for _ in range(2):
        handle.focus()
        n_plots = page.evaluate("window.__bt.plots.length")
        page.keyboard.press("ArrowRight")
        new = _settle(page, src)
        key, plots = page.evaluate("[window.__bt.key, window.__bt.plots]")
        assert len(plots) > n_plots, "the plot did not change after a slider move"
        latencies.append(plots[n_plots] - key)
        assert _pixels_changed(_png(src), _png(new)) > 1e-4
        src = new
    errors = [c["error"] for c in cells(page) if c["error"]]
    assert not errors, f"the pickers wrote errors or warnings: {errors}"
    med, worst = statistics.median(latencies), max(latencies)
    report_figure("optimizer picker / slider -> plot latency",
                  f"median {med:.0f} ms, max {worst:.0f} ms over {len(latencies)} moves")
    assert worst < 5000, f"a move took {worst:.0f} ms to redraw the plot"
