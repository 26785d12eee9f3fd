"""How the learning-rate explorers look: a descent run drawn as a loss curve beside its path on a contour map, and
the slider, preset and interactive widgets both explorers share (course/explorer.py)."""
from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

# ---------------------------------------------------------------- plotting (shared by both explorers)

_COLOURS = {"smooth": "C2", "learning": "C2", "stalled": "C1", "oscillating": "C1", "borderline": "C1",
            "diverging": "C3", "unstable": "C3"}


def plot_descent(losses, path, contour, title="", status="", xlabel="step", view=None, steps_per_point=1):
    """Two panels: loss against step (log scale) and the path on a contour map.

    ``path`` is (k, 2) in the plane of ``contour = (xs, ys, zs)`` (zs shaped (len(ys), len(xs))). ``view`` fixes the
    right panel's limits ((x0, x1), (y0, y1)); a path that leaves the view is cut at its edge and marked.
    """
    losses = np.asarray(losses, dtype=np.float64)
    path = np.asarray(path, dtype=np.float64)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    colour = _COLOURS.get(status.split(":")[0].strip(), "C0")
    steps = np.arange(len(losses)) * steps_per_point
    finite = np.isfinite(losses) & (losses > 0)
    left.plot(steps[finite], losses[finite], "o-", ms=3, color=colour)
    left.set_yscale("log")
    # plain tick labels (no mathtext, no minor labels): the slider redraws this figure, and text layout is the slow part
    left.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    left.yaxis.set_minor_formatter(NullFormatter())
    left.set_xlabel(xlabel)
    left.set_ylabel("loss")
    left.set_title("loss against " + xlabel)
    if status:  # the verdict, coloured, where no curve can hide it
        left.set_title(status, loc="right", color=colour, fontweight="bold", fontsize=10)
        left.set_title("loss against " + xlabel, loc="left", fontsize=10)
        left.set_title("")
    xs, ys, zs = contour
    positive = zs[zs > 0]
    if positive.size and positive.max() / max(positive.min(), 1e-300) > 50:
        levels = np.geomspace(max(positive.min(), positive.max() * 1e-4), positive.max(), 14)
    else:
        levels = 14
    right.contour(xs, ys, zs, levels=levels, cmap="viridis", linewidths=0.8)
    if view is not None:
        (x0, x1), (y0, y1) = view
        inside = (path[:, 0] >= x0) & (path[:, 0] <= x1) & (path[:, 1] >= y0) & (path[:, 1] <= y1)
        cut = len(path) if inside.all() else int(np.argmin(inside))
        shown = path[:max(cut, 1)]
        right.set_xlim(x0, x1)
        right.set_ylim(y0, y1)
        if cut < len(path):
            right.annotate("leaves the map", xy=shown[-1], xytext=(0.5, 0.06), textcoords="axes fraction",
                           ha="center", color="C3", fontsize=9, arrowprops=dict(arrowstyle="->", color="C3"))
    else:
        shown = path
    right.plot(shown[:, 0], shown[:, 1], "o-", ms=3, color=colour, lw=1.2)
    right.plot(shown[0, 0], shown[0, 1], "s", color="k", ms=6, label="start")
    right.legend(loc="upper right", fontsize=8)
    right.set_title("descent path on the loss contours")
    if title:
        fig.suptitle(title, fontsize=11)
    # fixed margins instead of tight_layout: the slider redraws this figure, and layout is the slow part
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.84 if title else 0.9, wspace=0.22)
    return fig



# ---------------------------------------------------------------- widgets


def eta_slider(value: float, description: str = "eta"):
    import ipywidgets as widgets
    return widgets.FloatLogSlider(value=value, base=10, min=-3, max=1, step=0.01, description=description,
                                  continuous_update=False, readout_format=".3g")


def preset_box(presets: dict, slider):
    """A dropdown whose choice moves the slider (the widget's presets)."""
    import ipywidgets as widgets
    box = widgets.Dropdown(options=["(choose)"] + list(presets), value="(choose)", description="preset")

    def moved(change):
        if change["new"] in presets:
            slider.value = presets[change["new"]]
    box.observe(moved, names="value")
    return box


def png_output(fig) -> dict:
    """The figure as a display_data output (a PNG, as the inline backend would make it), and the figure closed."""
    buf = io.BytesIO()
    # no bbox_inches="tight": the margins are fixed (plot_descent), and "tight" would render the figure twice
    fig.savefig(buf, format="png", dpi=plt.rcParams["figure.dpi"])
    plt.close(fig)
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": "<explorer figure>"}}


def interactive(draw, **controls):
    """``ipywidgets.interactive`` whose ``draw(**values)`` returns a figure, shown by setting the Output widget's
    outputs directly instead of printing into it.

    Printing into an Output widget while a cell runs makes headless runners (nbclient, which nbgrader and the course's
    tests use) answer on the kernel's shell channel from inside their output loop, and that can leave the cell waiting
    until its timeout (jupyter/nbclient#312). Setting ``outputs`` sends plain widget state, which they only record.
    """
    import ipywidgets as widgets

    built = {}

    def update(**values):
        if "w" in built:  # interactive calls this once while it is being built: draw after that, below
            built["w"].out.outputs = (png_output(draw(**values)),)
    w = built["w"] = widgets.interactive(update, {"clear_output": False}, **controls)
    w.update()
    return w


