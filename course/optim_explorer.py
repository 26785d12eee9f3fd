"""The optimizer explorer (notebook 07): an optimizer picker beside the learning-rate slider.

Pick SGD, momentum, RMSProp or Adam, move eta, and watch the loss and the path, on three settings:

* the 2-D bowl of the learning-rate explorer (``explorer.BOWL_A``: eigenvalues 1 and 10);
* the surface of notebook 07, ``f(x, y) = (x^2 - 1)^2 + 0.3 x + y^2``: a saddle and two minima of different depth;
* the digit network, trained briefly by a function the notebook passes in (:func:`digits_optimizer_explorer`).

Every (setting, optimizer, eta) run is computed once and cached, as in ``course.explorer``, so moving back is instant.
The optimizers follow notebook 07's signature ``step(params, grads, state, hyper) -> (new_params, new_state)``; a
notebook may pass its own (the student's) in ``steps``. Under the autograder the explorers print one line and show
nothing. The computations are pure functions, tested without a browser (tests/test_optim_explorer.py).
"""
from __future__ import annotations

import time

import numpy as np

from . import explorer
from .descent_view import eta_slider, interactive, plot_descent

# ---------------------------------------------------------------- optimizers (notebook 07's forms)


def sgd_step(params, grads, state, hyper):
    return [p - hyper["eta"] * g for p, g in zip(params, grads)], state


def momentum_step(params, grads, state, hyper):
    vs = [np.zeros_like(p) for p in params] if state is None else state["v"]
    vs = [hyper["beta"] * v - hyper["eta"] * g for v, g in zip(vs, grads)]
    return [p + v for p, v in zip(params, vs)], {"v": vs}


def rmsprop_step(params, grads, state, hyper):
    ss = [np.zeros_like(p) for p in params] if state is None else state["s"]
    ss = [hyper["rho"] * s + (1 - hyper["rho"]) * g * g for s, g in zip(ss, grads)]
    return [p - hyper["eta"] * g / (np.sqrt(s) + hyper["eps"]) for p, g, s in zip(params, grads, ss)], {"s": ss}


def adam_step(params, grads, state, hyper):
    if state is None:
        state = {"m": [np.zeros_like(p) for p in params], "v": [np.zeros_like(p) for p in params], "t": 0}
    b1, b2, t = hyper["beta1"], hyper["beta2"], state["t"] + 1
    ms = [b1 * m + (1 - b1) * g for m, g in zip(state["m"], grads)]
    vs = [b2 * v + (1 - b2) * g * g for v, g in zip(state["v"], grads)]
    new = [p - hyper["eta"] * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + hyper["eps"])
           for p, m, v in zip(params, ms, vs)]
    return new, {"m": ms, "v": vs, "t": t}


#: The picker's entries, in order: name -> step function.
STEPS = {"SGD": sgd_step, "momentum": momentum_step, "RMSProp": rmsprop_step, "Adam": adam_step}
#: Hyper-parameters other than eta, per optimizer (the usual defaults).
HYPER = {"SGD": {}, "momentum": {"beta": 0.9}, "RMSProp": {"rho": 0.9, "eps": 1e-8},
         "Adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}}

# ---------------------------------------------------------------- the two surfaces

TILT = 0.3


def two_minima(p):
    """f(x, y) = (x^2 - 1)^2 + 0.3 x + y^2 for a point (2,) or for the last axis of an array (..., 2)."""
    p = np.asarray(p, dtype=np.float64)
    x, y = p[..., 0], p[..., 1]
    return (x * x - 1.0) ** 2 + TILT * x + y * y


def two_minima_gradient(p):
    x, y = float(p[0]), float(p[1])
    return np.array([4.0 * x * (x * x - 1.0) + TILT, 2.0 * y])


#: The deepest value of two_minima (at x = -1.0356, y = 0): its loss panel shows f minus this, which is >= 0.
TWO_MINIMA_LOW = float(two_minima(np.array([np.sort(np.roots([4.0, 0.0, -4.0, TILT]).real)[0], 0.0])))
X_SADDLE = float(np.sort(np.roots([4.0, 0.0, -4.0, TILT]).real)[1])

#: setting -> (loss of a point or of an array of points, gradient, start, view, steps, loss offset)
SURFACES = {
    "bowl": (lambda w: explorer.bowl_loss(explorer.BOWL_A, w), lambda w: explorer.bowl_gradient(explorer.BOWL_A, w),
             explorer.BOWL_W0, ((-2.0, 2.0), (-2.0, 2.0)), 30, 0.0),
    "two minima": (two_minima, two_minima_gradient, np.array([2.0, 1.0]), ((-2.2, 2.2), (-1.7, 1.7)), 150,
                   TWO_MINIMA_LOW),
}


def surface_path(surface: str, step, eta: float, hyper=None, steps: int | None = None,
                 blowup: float = explorer.BLOWUP) -> np.ndarray:
    """The iterates of ``step`` on a surface (rows, start first), the state carried from step to step.

    The path stops early once an iterate leaves a ball of radius ``blowup`` (it has diverged): numpy never overflows.
    """
    _, grad, start, _, n, _ = SURFACES[surface]
    hyper = {**(hyper or {}), "eta": float(eta)}
    p, state, path = np.array(start, dtype=np.float64), None, []
    path.append(p.copy())
    for _ in range(n if steps is None else int(steps)):
        with np.errstate(all="ignore"):
            (p,), state = step([p], [grad(p)], state, hyper)
        p = np.asarray(p, dtype=np.float64)
        path.append(p.copy())
        if not np.all(np.isfinite(p)) or np.linalg.norm(p) > blowup:
            break
    return np.array(path)


def surface_status(surface: str, path, losses) -> str:
    """The verdict drawn on the loss panel: diverging, or where the run ended."""
    # Momentum's loss rises and falls as it swings, so a rising loss is no verdict: leaving the map is.
    if not np.all(np.isfinite(path[-1])) or np.linalg.norm(path[-1]) > 3 * max(np.linalg.norm(path[0]), 1.0):
        return "diverging: the steps grow"
    if surface == "two minima":
        moved = np.linalg.norm(path[-1] - path[-2]) if len(path) > 1 else 0.0
        where = "deep" if path[-1][0] < X_SADDLE else "shallow"
        return f"{'settled' if moved < 1e-3 else 'still moving'}: ends in the {where} minimum"
    return "smooth" if losses[-1] < 1e-3 * losses[0] else "oscillating"


class PathCache:
    """Surface runs keyed by (surface, optimizer, eta to 4 digits), computed once: (path, losses, status)."""

    def __init__(self, steps=None):
        self.steps = dict(STEPS if steps is None else steps)
        self.store: dict = {}

    def get(self, surface: str, optimizer: str, eta: float):
        key = (surface, optimizer, float(f"{eta:.4g}"))
        if key not in self.store:
            loss, *_, offset = SURFACES[surface]
            path = surface_path(surface, self.steps[optimizer], key[2], HYPER.get(optimizer, {}))
            with np.errstate(all="ignore"):
                losses = loss(path) - offset
            self.store[key] = (path, losses, surface_status(surface, path, losses))
        return self.store[key]


_GRIDS: dict = {}


def _grid(surface: str):
    """The contour grid of a surface (computed once)."""
    if surface not in _GRIDS:
        loss, _, _, ((x0, x1), (y0, y1)), _, offset = SURFACES[surface]
        xs, ys = np.linspace(x0, x1, 81), np.linspace(y0, y1, 81)
        _GRIDS[surface] = (xs, ys, loss(np.stack(np.meshgrid(xs, ys), axis=-1)) - offset)
    return _GRIDS[surface]


def plot_surface_run(cache: PathCache, surface: str, optimizer: str, eta: float):
    """The optimizer explorer's figure for one run on a surface."""
    return plot_descent(**surface_picture(cache, surface, optimizer, eta))


def surface_picture(cache: PathCache, surface: str, optimizer: str, eta: float) -> dict:
    """What :func:`plot_surface_run` draws, as plot_descent's arguments (the widget redraws them in place)."""
    path, losses, status = cache.get(surface, optimizer, eta)
    view = SURFACES[surface][3]
    shifted = "" if surface == "bowl" else " (loss shown above the deepest point)"
    return dict(losses=losses, path=path, contour=_grid(surface),
                title=f"{optimizer} on the {surface}, eta = {eta:.3g}{shifted}", status=status, view=view)


def make_optimizer_widget(surface: str = "two minima", optimizer: str = "SGD", eta: float = 0.05, steps=None):
    """Build (do not display) the explorer: setting and optimizer pickers beside the eta slider."""
    import ipywidgets as widgets
    cache = PathCache(steps)
    slider = eta_slider(eta)
    picker = widgets.Dropdown(options=list(cache.steps), value=optimizer, description="optimizer")
    where = widgets.Dropdown(options=list(SURFACES), value=surface, description="surface")

    def draw(eta, optimizer, surface):
        return surface_picture(cache, surface, optimizer, eta)
    w = interactive(draw, eta=slider, optimizer=picker, surface=where)
    w.cache = cache
    return w


def optimizer_explorer(surface: str = "two minima", optimizer: str = "SGD", eta: float = 0.05, steps=None):
    """Show the optimizer explorer. ``steps``: optional {name: step function}, e.g. your own from notebook 07."""
    if explorer.grading():
        print("(The optimizer explorer is skipped while autograding.)")
        return None
    from IPython.display import display
    display(make_optimizer_widget(surface, optimizer, eta, steps))
    return None


# ---------------------------------------------------------------- the digit network, with an optimizer picker


def plot_digits_optimizer_run(cache: explorer.RunCache, eta: float, optimizer: str, steps_per_point=1,
                              xlabel="images seen"):
    """The digit network's figure for one (eta, optimizer) run."""
    return plot_descent(**digits_optimizer_picture(cache, eta, optimizer, steps_per_point, xlabel))


def digits_optimizer_picture(cache: explorer.RunCache, eta: float, optimizer: str, steps_per_point=1,
                             xlabel="images seen") -> dict:
    """What :func:`plot_digits_optimizer_run` draws, as plot_descent's arguments."""
    thetas, losses, seconds, coords, contour = cache.get(eta, optimizer)
    title = f"{optimizer}, eta = {eta:.3g}: final loss {losses[-1]:.3f} (run took {seconds:.2f} s)"
    return dict(losses=losses, path=coords, contour=contour, title=title, status=explorer.digits_status(losses),
                xlabel=xlabel, steps_per_point=steps_per_point)


def make_digits_optimizer_widget(cache: explorer.RunCache, optimizers, eta: float = 0.01, optimizer: str = "Adam",
                                 steps_per_point=1, xlabel="images seen"):
    import ipywidgets as widgets
    slider = eta_slider(eta)
    picker = widgets.Dropdown(options=list(optimizers), value=optimizer, description="optimizer")

    def draw(eta, optimizer):
        return digits_optimizer_picture(cache, eta, optimizer, steps_per_point, xlabel)
    return interactive(draw, eta=slider, optimizer=picker)


def digits_optimizer_explorer(run, loss_of, optimizers=tuple(STEPS), eta: float = 0.01, optimizer: str = "Adam",
                              steps_per_point=1, xlabel="images seen"):
    """The digit network with an optimizer picker: ``run(eta, optimizer_name)`` trains briefly and returns
    ``(thetas, losses)`` as for ``explorer.digits_explorer``; ``loss_of(theta)`` is the loss at a flattened vector.
    Returns the RunCache (keyed by (eta, optimizer name)), or None under the autograder."""
    if explorer.grading():
        print("(The optimizer explorer is skipped while autograding.)")
        return None
    from IPython.display import display
    cache = explorer.RunCache(run, loss_of)
    t0 = time.perf_counter()
    display(make_digits_optimizer_widget(cache, optimizers, eta, optimizer, steps_per_point, xlabel))
    cache.first_draw_seconds = time.perf_counter() - t0
    return cache
