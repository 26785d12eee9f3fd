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
    A new pyplot figure each call (the widgets redraw one persistent figure instead: :class:`DescentView`).
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=FIGSIZE)
    _draw(fig, left, right, losses, path, contour, title, status, xlabel, view, steps_per_point)
    return fig


#: The explorers' figure size in inches.
FIGSIZE = (10, 3.8)


def _colour(status: str) -> str:
    return _COLOURS.get(status.split(":")[0].strip(), "C0")


def _draw(fig, left, right, losses, path, contour, title, status, xlabel, view, steps_per_point):
    """Everything plot_descent draws, on two fresh axes."""
    colour = _colour(status)
    _loss_panel(left, losses, status, xlabel, steps_per_point, colour)
    _path_panel(right, path, contour, view, colour)
    if title:
        fig.suptitle(title, fontsize=11)
    # fixed margins instead of tight_layout: the slider redraws this figure, and layout is the slow part
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.84 if title else 0.9, wspace=0.22)


def _loss_points(losses, steps_per_point):
    losses = np.asarray(losses, dtype=np.float64)
    steps = np.arange(len(losses)) * steps_per_point
    finite = np.isfinite(losses) & (losses > 0)
    return steps[finite], losses[finite]


def _loss_panel(left, losses, status, xlabel, steps_per_point, colour):
    left.plot(*_loss_points(losses, steps_per_point), "o-", ms=3, color=colour)
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


def _path_panel(right, path, contour, view, colour):
    path = np.asarray(path, dtype=np.float64)
    xs, ys, zs = contour
    right.contour(xs, ys, zs, levels=_levels(zs), cmap="viridis", linewidths=0.8)
    shown = _shown_path(right, path, view)
    right.plot(shown[:, 0], shown[:, 1], "o-", ms=3, color=colour, lw=1.2)
    right.plot(shown[0, 0], shown[0, 1], "s", color="k", ms=6, label="start")
    right.legend(loc="upper right", fontsize=8)
    right.set_title("descent path on the loss contours")


def _levels(zs):
    positive = zs[zs > 0]
    if positive.size and positive.max() / max(positive.min(), 1e-300) > 50:
        return np.geomspace(max(positive.min(), positive.max() * 1e-4), positive.max(), 14)
    return 14


def _shown_path(right, path, view):
    """The part of the path inside ``view`` (the right panel's limits are set to it), marked where it leaves."""
    if view is None:
        return path
    (x0, x1), (y0, y1) = view
    inside = (path[:, 0] >= x0) & (path[:, 0] <= x1) & (path[:, 1] >= y0) & (path[:, 1] <= y1)
    cut = len(path) if inside.all() else int(np.argmin(inside))
    shown = path[:max(cut, 1)]
    right.set_xlim(x0, x1)
    right.set_ylim(y0, y1)
    if cut < len(path):
        right.annotate("leaves the map", xy=shown[-1], xytext=(0.5, 0.06), textcoords="axes fraction",
                       ha="center", color="C3", fontsize=9, arrowprops=dict(arrowstyle="->", color="C3"))
    return shown


class DescentView:
    """The widgets' figure: one persistent figure that each move redraws in place, as a PNG.

    It looks exactly like :func:`plot_descent` (tests/test_explorer.py compares the pixels), but a move costs less:

    * the figure, its axes and their tick objects are made once; the loss curve and the path are new line data;
    * on a fixed view with the same contour map (the bowl, notebook 07's surfaces) the pixels of what does not move
      (contours, ticks, tick labels, titles) are drawn once and kept; a move draws only what moves over them;
    * the titles sit at y = 1 (``axes.titley``) instead of being placed after a layout pass over every tick label
      (nothing is drawn above the axes, so that pass always put them there too);
    * the PNG is compressed with zlib level 1 instead of 6 (the same pixels, about 2x faster to encode), straight
      from the canvas.

    Not a pyplot figure (pyplot would show it again under the inline backend), so it is never closed.
    """

    RC = {"axes.titley": 1.0}

    def __init__(self):
        self.fig = None
        self._layout = None   # what decides the figure's layout: when it changes, a new figure
        self._right = None    # (contour, view) drawn on the right panel
        self._still = None    # the pixels of what does not move on a fixed right panel (see _draw_moving)

    def figure(self, losses, path, contour, title="", status="", xlabel="step", view=None, steps_per_point=1):
        """The figure showing this run (the same one each call)."""
        import matplotlib as mpl
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        layout = (bool(title), bool(status), xlabel)
        colour = _colour(status)
        with mpl.rc_context(self.RC):
            if self.fig is None or layout != self._layout:
                self.fig = Figure(figsize=FIGSIZE)
                FigureCanvasAgg(self.fig)
                left, right = self.fig.subplots(1, 2)
                _draw(self.fig, left, right, losses, path, contour, title, status, xlabel, view, steps_per_point)
                self._layout, self._right, self._still = layout, (contour, view), None
                self._suptitle = self.fig.suptitle(title, fontsize=11) if title else None
                return self.fig
            left, right = self.fig.axes
            line = left.lines[0]
            line.set_data(*_loss_points(losses, steps_per_point))
            line.set_color(colour)
            left.relim()
            left.autoscale_view()
            if status:
                left.set_title(status, loc="right", color=colour, fontweight="bold", fontsize=10)
            if view is not None and self._right[1] == view and _same_contour(self._right[0], contour):
                path = np.asarray(path, dtype=np.float64)
                for text in list(right.texts):  # the "leaves the map" mark
                    text.remove()
                shown = _shown_path(right, path, view)
                trail, start = right.lines[:2]
                trail.set_data(shown[:, 0], shown[:, 1])
                trail.set_color(colour)
                start.set_data(shown[:1, 0], shown[:1, 1])
            elif view is None and self._right[1] is None:
                # A new contour map on a panel that scales to it (the digit network: every run has its own plane).
                # Replay what a fresh panel does, in its order: the contours set the limits to their grid, then the
                # path and its start extend them. The axes, ticks, legend and title stay.
                path = np.asarray(path, dtype=np.float64)
                trail, start = right.lines[:2]
                for artist in [*right.collections, trail, start]:
                    artist.remove()
                right.relim()  # nothing left that counts: the limits start from scratch, as on a fresh panel
                xs, ys, zs = contour
                right.contour(xs, ys, zs, levels=_levels(zs), cmap="viridis", linewidths=0.8)
                trail.set_data(path[:, 0], path[:, 1])
                trail.set_color(colour)
                start.set_data(path[:1, 0], path[:1, 1])
                right.add_line(trail)
                right.add_line(start)
                self._right, self._still = (contour, view), None
            else:  # anything else: the right panel anew
                right.cla()
                _path_panel(right, path, contour, view, colour)
                self._right, self._still = (contour, view), None
            if title:
                self._suptitle = self.fig.suptitle(title, fontsize=11)
        return self.fig

    def png(self, **picture) -> str:
        """The figure for ``picture`` (plot_descent's arguments) as a base64 PNG."""
        from PIL import Image

        fig = self.figure(**picture)
        if fig.dpi != plt.rcParams["figure.dpi"]:  # png_output saves at this dpi
            fig.set_dpi(plt.rcParams["figure.dpi"])
            self._still = None
        if self._right[1] is None:  # the right panel scales to its data: draw everything
            fig.canvas.draw()
        else:
            self._draw_moving()
        buf = io.BytesIO()
        Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).save(buf, format="png", compress_level=1)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    def _moving(self):
        """On a fixed right panel, what a move can change: the left panel, the suptitle, and on the right the path, its
        start, the "leaves the map" mark and, drawn over them, the frame and the legend."""
        left, right = self.fig.axes
        moving = [left, *right.lines, *right.spines.values(), *right.texts, right.get_legend()]
        return moving if self._suptitle is None else [*moving, self._suptitle]

    def _draw_moving(self):
        """Draw the figure with a fixed right panel, drawing only what moves over the pixels of what does not.

        Those pixels (the figure's background; on the right the axes' background, the ticks and their labels, the
        contours and the titles) are drawn once, with everything else hidden. A move draws the rest over them in the
        order of a full draw (the ticks, at zorder 1.5, and the contours come before the path there too), and nothing
        still overlaps anything drawn later: so the pixels are those of a full draw (tests/test_explorer.py compares).
        """
        canvas = self.fig.canvas
        moving = self._moving()
        if self._still is None:
            shown = [(a, a.get_visible()) for a in moving]
            for a, _ in shown:
                a.set_visible(False)
            canvas.draw()
            self._still = canvas.copy_from_bbox(self.fig.bbox)
            for a, was in shown:
                a.set_visible(was)
        renderer = canvas.get_renderer()
        canvas.restore_region(self._still)
        for a in moving:
            a.draw(renderer)


def _same_contour(a, b) -> bool:
    return a is b or all(np.array_equal(x, y) for x, y in zip(a, b))


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
    return _display(base64.b64encode(buf.getvalue()).decode("ascii"))


def _display(png_b64: str) -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": png_b64, "text/plain": "<explorer figure>"}}


#: Read when an explorer is built: True draws each move on a new figure (the old way, kept as the benchmark's baseline:
#: benchmarks/explorer.py); False (the course) redraws one persistent figure (DescentView).
REBUILD = False


def interactive(draw, **controls):
    """``ipywidgets.interactive`` whose ``draw(**values)`` returns the picture to show, as a dict of
    :func:`plot_descent`'s arguments. The PNG is shown by setting the Output widget's outputs directly instead of
    printing into it.

    Printing into an Output widget while a cell runs makes headless runners (nbclient, which nbgrader and the course's
    tests use) answer on the kernel's shell channel from inside their output loop, and that can leave the cell waiting
    until its timeout (jupyter/nbclient#312). Setting ``outputs`` sends plain widget state, which they only record.
    The widget's ``view`` is its :class:`DescentView` (None when built with REBUILD).
    """
    import ipywidgets as widgets

    built = {}
    view = None if REBUILD else DescentView()

    def update(**values):
        if "w" in built:  # interactive calls this once while it is being built: draw after that, below
            picture = draw(**values)
            out = png_output(plot_descent(**picture)) if view is None else _display(view.png(**picture))
            built["w"].out.outputs = (out,)
    w = built["w"] = widgets.interactive(update, {"clear_output": False}, **controls)
    w.view = view
    w.update()
    return w
