"""What a person does in JupyterLab, as Playwright steps (selectors checked on JupyterLab 4.6, nbgrader 0.9.6,
ipywidgets 8)."""
from __future__ import annotations

import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "01_chain_rule"

NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CELLS = f"{NOTEBOOK} .jp-Notebook .jp-Cell"
STATUSBAR = "#jp-main-statusbar"


def open_notebook(page, lab, path: str, workspace: str, timeout: float = 60_000) -> None:
    """Open a notebook in a fresh workspace and wait until its kernel is idle."""
    page.goto(lab.lab_url(path, workspace))
    page.wait_for_selector(f"{NOTEBOOK} .jp-Notebook .jp-Cell", timeout=timeout)
    wait_kernel_idle(page, timeout)


def wait_kernel_idle(page, timeout: float = 60_000) -> None:
    """The status bar reads "... | Idle" once a kernel exists and is idle. (The toolbar's dot reads idle before any
    kernel exists: Run All would then open a "Select Kernel" dialog.)"""
    page.wait_for_function(
        "(sel) => { const s = document.querySelector(sel); return !!s && /\\|\\s*Idle/.test(s.textContent); }",
        arg=STATUSBAR, timeout=timeout)


def cells(page) -> list[dict]:
    """Every cell of the open notebook, in order: kind, prompt ('' / '*' / '12'), the error text (tracebacks and
    stderr), and all output text."""
    return page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel)).map((c) => {
            const prompt = c.querySelector('.jp-InputArea-prompt');
            const m = prompt ? prompt.textContent.match(/\\[(.*)\\]/) : null;
            const errs = Array.from(c.querySelectorAll(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'));
            const outs = Array.from(c.querySelectorAll('.jp-OutputArea-output'));
            return {
                kind: c.classList.contains('jp-CodeCell') ? 'code'
                    : c.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
                prompt: m ? m[1].trim() : '',
                error: errs.map((e) => e.textContent).join('\\n'),
                output: outs.map((e) => e.textContent).join('\\n'),
                images: c.querySelectorAll('.jp-OutputArea-output img').length,
            };
        })""", CELLS)


def _max_count(cs: list[dict]) -> int:
    return max((int(c["prompt"]) for c in cs if c["prompt"].isdigit()), default=0)


def run_all(page, timeout: float = 120.0) -> list[dict]:
    """Run > Run All Cells, as a person would (JupyterLab 4.6 has no default shortcut for it); return the cells once
    the run has finished: nothing queued ('*'), the kernel idle, new execution counts, and the state stable."""
    before = _max_count(cells(page))
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    return wait_run_finished(page, before, timeout)


def wait_run_finished(page, before: int, timeout: float = 120.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        cs = cells(page)
        idle = "Idle" in (page.locator(STATUSBAR).text_content() or "")
        state = (_max_count(cs), tuple(c["prompt"] for c in cs))
        done = idle and state[0] > before and not any(c["prompt"] == "*" for c in cs)
        if done and state == last:
            return cs
        last = state if done else None
        time.sleep(0.3)
    raise AssertionError(f"the run did not finish within {timeout} s: prompts {[c['prompt'] for c in cells(page)]}")


def notebook_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def graded_test_cells(nb: dict) -> dict[int, str]:
    """{cell index: grade_id} of the graded test cells (nbgrader's "Autograder tests" cells)."""
    return {i: c["metadata"]["nbgrader"]["grade_id"] for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("grade")
            and not c["metadata"]["nbgrader"].get("solution")}


def cell_index(nb: dict, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def replace_cell_source(page, index: int, text: str) -> None:
    """Click into a cell's editor, select everything and type new code over it (inserted as one text input, so the
    editor's auto-indent and bracket closing do not change it)."""
    editor = page.locator(CELLS).nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(text)


def run_cell_and_next(page, index: int, n: int, timeout: float = 60.0) -> list[dict]:
    """Run cell `index` and the n - 1 cells after it with Shift+Enter, as a person steps through a notebook."""
    before = _max_count(cells(page))
    page.locator(CELLS).nth(index).locator(".cm-content").click()
    for _ in range(n):
        page.keyboard.press("Shift+Enter")
    return wait_run_finished(page, before, timeout)


def validate(page, timeout: float = 120_000) -> dict:
    """Press nbgrader's Validate button (it saves the notebook first) and read the result dialog."""
    page.locator(f"{NOTEBOOK} .jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("#validation-message").wait_for(timeout=timeout)
    message = dialog.locator("#validation-message")
    result = {"classes": message.get_attribute("class") or "", "text": message.inner_text(),
              "title": dialog.locator(".jp-Dialog-header").inner_text()}
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    dialog.wait_for(state="detached")
    return result
