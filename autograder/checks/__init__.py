"""What is true of a correct answer: one module of hidden checks per notebook (``nbNN.py``), their shared core
(``_core.py``), the bug diagnoses (``diagnose.py``) and the course's one numerical gradient (``numgrad.py``).

Hidden test cells call ``nbNN.check_x(student_fn)``; under the grader each call is routed to the judge process
(autograder/grading/judge.py), which runs the check here, against the reference in autograder/reference/.
"""
from __future__ import annotations

import importlib


def checks_module(assignment: str):
    """``01_chain_rule`` -> ``autograder.checks.nb01``."""
    return importlib.import_module(f"autograder.checks.nb{assignment[:2]}")
