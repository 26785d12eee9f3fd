"""The class report's figures: matplotlib's Agg canvas on private Figure objects (no pyplot, no global backend), so
they can be drawn from any process or thread."""
from __future__ import annotations

from pathlib import Path

from ..outcome import Outcome
from .causes import Cause

TOP_BUGS = 12     # causes shown in the figure and the table


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, format="png")


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_scores(by_assignment: dict[str, list[Outcome]], path: Path) -> None:
    names = sorted(by_assignment) or ["(no submissions)"]
    fig = _figure(6.0, 2.6 * len(names))
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    for ax, a in zip(axes, names):
        subs = by_assignment.get(a, [])
        if not subs:
            _empty(ax, "no submissions")
            continue
        top = max([o.max_score for o in subs] + [o.score for o in subs] + [1.0])
        width = max(1.0, top / 20)
        edges = [i * width for i in range(int(top / width) + 2)]
        graded = [o.score for o in subs if o.status == "graded"]
        not_graded = [0.0 for o in subs if o.status == "not graded"]   # "grade again" ones have no score at all
        ax.hist([graded, not_graded], bins=edges, stacked=True, color=["#4c72b0", "#c44e52"],
                label=[f"graded ({len(graded)})", f"not graded, 0 points ({len(not_graded)})"], align="left",
                rwidth=0.85)
        ax.set_title(f"{a}: scores of {len(subs)} submissions (max {top:g})")
        ax.set_xlabel("score")
        ax.set_ylabel("submissions")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8, loc="best")
    _save(fig, path)


def plot_failure_rates(rates: dict[str, list], path: Path) -> None:
    rows = sum(len(v) for v in rates.values())
    fig = _figure(7.0, 1.0 + 0.28 * max(rows, 3) + 0.6 * len(rates))
    if not rows:
        _empty(fig.add_subplot(), "no graded submission")
        _save(fig, path)
        return
    axes = fig.subplots(len(rates), 1, squeeze=False,
                        gridspec_kw={"height_ratios": [max(len(v), 1) for v in rates.values()]})[:, 0]
    for ax, (a, parts) in zip(axes, rates.items()):
        labels = [g for g, *_ in parts][::-1]
        values = [100 * r for _, r, *_ in parts][::-1]
        bars = ax.barh(labels, values, color="#dd8452")
        for bar, (_, _, f, n) in zip(bars, parts[::-1]):
            ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, f"{f}/{n}", va="center", fontsize=7)
        ax.set_xlim(0, 112)
        ax.set_title(f"{a}: graded submissions that lost points, per test cell", fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
    axes[-1].set_xlabel("failure rate (%)")
    _save(fig, path)


def plot_causes(found: list[Cause], path: Path) -> None:
    top = found[:TOP_BUGS]
    fig = _figure(8.0, 1.2 + 0.35 * max(len(top), 3))
    ax = fig.add_subplot()
    if not top:
        _empty(ax, "no failed test")
    else:
        labels = [c.label for c in top][::-1]
        values = [len(c.submissions) for c in top][::-1]
        colors = ["#c44e52" if c.kind == "diagnosis" else "#8c8c8c" for c in top][::-1]
        ax.barh(labels, values, color=colors)
        ax.set_xlabel("submissions")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(axis="y", labelsize=8)
        fig.suptitle("most frequent causes of failure (red: a bug the hidden checks diagnosed)", fontsize=10)
    _save(fig, path)


def plot_slowest(slow: list[Outcome], path: Path) -> None:
    fig = _figure(7.0, 1.2 + 0.3 * max(len(slow), 3))
    ax = fig.add_subplot()
    if not slow:
        _empty(ax, "no timing recorded")
    else:
        labels = [f"{o.student} / {o.assignment}" for o in slow][::-1]
        values = [o.seconds for o in slow][::-1]
        colors = ["#4c72b0" if o.status == "graded" else "#c44e52" for o in slow][::-1]
        ax.barh(labels, values, color=colors)
        ax.set_xlabel("seconds (autograde and kernel, wall clock)")
        ax.tick_params(axis="y", labelsize=8)
        fig.suptitle("slowest submissions (red: not graded)", fontsize=10)
    _save(fig, path)
