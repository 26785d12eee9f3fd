"""One judge serves one grading worker's submissions one after the other: each ledger request returns exactly the
verdicts since the previous one, and a judge that is gone is reported as None, never as an empty (passing) ledger."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.protocol.client import ask_judge
from autograder.grading.judge import Judge


def good_sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def bad_sigmoid(z):
    return 1.0 - good_sigmoid(z)   # sigma(-z)


@pytest.fixture
def judge():
    j = Judge().start()
    yield j
    j.stop()


def test_each_ledger_holds_only_the_verdicts_since_the_last_request(judge):
    assert judge.ledger() == []
    ask_judge(judge.address, "nb01.check_sigmoid", (good_sigmoid,))
    first = judge.ledger()
    assert [(e["check"], e["ok"]) for e in first] == [("nb01.check_sigmoid", True)]

    with pytest.raises(AssertionError):
        ask_judge(judge.address, "nb01.check_sigmoid", (bad_sigmoid,))
    ask_judge(judge.address, "nb01.check_sigmoid", (good_sigmoid,))
    second = judge.ledger()
    assert [(e["check"], e["ok"]) for e in second] == [("nb01.check_sigmoid", False), ("nb01.check_sigmoid", True)]
    assert judge.ledger() == [], "a ledger request must start a new ledger"


def test_a_dead_judge_gives_no_ledger_and_is_replaced(judge):
    judge.proc.kill()
    judge.proc.wait()
    assert judge.ledger() is None
    judge.ensure()
    ask_judge(judge.address, "nb01.check_sigmoid", (good_sigmoid,))
    assert [e["ok"] for e in judge.ledger()] == [True]
