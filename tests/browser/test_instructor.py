"""An instructor in JupyterLab: opens nbgrader's formgrader from the Nbgrader menu and finds the assignments."""
from __future__ import annotations

import uuid

import pytest

from helpers import ASSIGNMENT

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_formgrader_lists_the_assignments(page, lab, course, gradebook):
    # Every assignment with a source notebook at the time the course was copied (01 is generated into the gradebook).
    wanted = sorted(d.name for d in (course["dir"] / "source").iterdir() if d.is_dir() and any(d.glob("*.ipynb")))
    assert ASSIGNMENT in wanted

    page.goto(lab.lab_url("", "t" + uuid.uuid4().hex[:10]))
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-item[data-command='nbgrader:open-formgrader']").click()

    frame_el = page.locator("iframe[src$='/formgrader']")
    frame_el.wait_for()
    frame = page.frame_locator("iframe[src$='/formgrader']")
    frame.get_by_role("link", name="Manage Assignments").first.wait_for()
    names = frame.locator("#main-table td.name a")
    names.first.wait_for()
    listed = sorted(n.strip() for n in names.all_text_contents())
    print(f"\n[browser] formgrader lists: {listed}")
    missing = sorted(set(wanted) - set(listed))
    assert not missing, f"the formgrader does not list {missing} (it lists {listed})"

    # 01 went through generate_assignment: its row is a real gradebook entry, with a preview link and 0 submissions.
    row = frame.locator("#main-table tr", has=frame.locator("td.name", has_text=ASSIGNMENT))
    assert row.locator("td.num-submissions").inner_text().strip() == "0"
    assert row.locator("td.preview a").count() == 1, "a generated assignment has a Preview link"
