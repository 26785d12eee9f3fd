"""The optimizer explorer of notebook 07 (course/optim_explorer.py), checked without a browser: its optimizers are
notebook 07's, its runs are right and cached, and its pickers redraw the plot."""
import base64
import warnings

import numpy as np
import pytest

from autograder.reference import optim
from course import explorer as ex
from course import optim_explorer as ox


@pytest.mark.parametrize("name", list(ox.STEPS))
def test_course_optimizers_are_the_reference_ones(name):
    ref = optim.OPTIMIZERS[name.lower()]
    rng = np.random.default_rng(0)
    hyper = {**ox.HYPER[name], "eta": 0.05}
    params = [rng.normal(size=(3, 2)), rng.normal(size=(2, 1))]
    p, q, s, r = params, params, None, None
    for _ in range(4):
        grads = [rng.normal(size=x.shape) for x in params]
        p, s = ox.STEPS[name](p, grads, s, hyper)
        q, r = ref(q, grads, r, hyper)
        assert all(np.allclose(a, b, rtol=1e-14, atol=0) for a, b in zip(p, q))


def test_sgd_on_the_bowl_is_the_learning_rate_explorers_path():
    for eta in (0.05, 0.18, 0.21):
        np.testing.assert_allclose(ox.surface_path("bowl", ox.sgd_step, eta),
                                   ex.bowl_path(ex.BOWL_A, ex.BOWL_W0, eta, 30), rtol=1e-13)


def test_two_minima_runs_end_where_notebook_07_says():
    deep, saddle, shallow = optim.critical_points()
    assert ox.X_SADDLE == pytest.approx(saddle[0], rel=1e-12)
    assert ox.TWO_MINIMA_LOW == pytest.approx(optim.surface(deep), rel=1e-12)
    cache = ox.PathCache()
    path, losses, status = cache.get("two minima", "SGD", 0.05)
    assert status.endswith("ends in the shallow minimum") and path[-1][0] == pytest.approx(shallow[0], abs=1e-3)
    path, losses, status = cache.get("two minima", "momentum", 0.05)
    assert status.endswith("ends in the deep minimum") and np.all(losses >= -1e-12)
    np.testing.assert_allclose(path, optim.descend(optim.momentum_step, (2.0, 1.0), {"eta": 0.05, "beta": 0.9}, 150),
                               rtol=1e-12, atol=1e-14)


def test_a_huge_step_stops_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ox.STEPS:
            for surface in ox.SURFACES:
                path, losses, status = ox.PathCache().get(surface, name, 10.0)
                assert np.all(np.isfinite(path[:-1]))
    assert ox.PathCache().get("bowl", "SGD", 0.25)[2].startswith("diverging")
    assert ox.PathCache().get("two minima", "SGD", 0.6)[2].startswith("diverging")


def test_each_setting_runs_once():
    calls = []

    def counted(params, grads, state, hyper):
        calls.append(hyper["eta"])
        return ox.sgd_step(params, grads, state, hyper)

    cache = ox.PathCache({"SGD": counted})
    first = cache.get("bowl", "SGD", 0.1)
    n = len(calls)
    assert cache.get("bowl", "SGD", 0.1000001) is first and len(calls) == n
    cache.get("two minima", "SGD", 0.1)
    assert len(calls) > n


def _png(w):
    outs = w.out.outputs
    assert len(outs) == 1 and outs[0]["output_type"] == "display_data"
    data = outs[0]["data"]["image/png"]
    assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    return data


def test_picker_and_slider_redraw_the_plot(monkeypatch, capsys):
    w = ox.make_optimizer_widget()
    slider, picker, surface = w.children[:3]
    assert [c.__class__.__name__ for c in w.children[:3]] == ["FloatLogSlider", "Dropdown", "Dropdown"]
    assert list(picker.options) == ["SGD", "momentum", "RMSProp", "Adam"] and list(surface.options) == ["bowl", "two minima"]
    seen = {_png(w)}
    for name in ("momentum", "RMSProp", "Adam"):
        picker.value = name
        seen.add(_png(w))
    slider.value = 0.2
    seen.add(_png(w))
    surface.value = "bowl"
    seen.add(_png(w))
    assert len(seen) == 6, "every move of a control should draw a different plot"
    assert len(w.cache.store) == 6
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert ox.optimizer_explorer() is None
    assert ox.digits_optimizer_explorer(lambda e, o: None, lambda t: 0.0) is None
    out = capsys.readouterr()
    assert "skipped" in out.out and out.err == ""


def test_digits_widget_keys_runs_by_optimizer():
    A = np.diag([1.0, 2.0])
    calls = []

    def run(eta, name):
        calls.append((eta, name))
        step = ox.STEPS[name]
        p, s, path = [np.array([1.0, 1.0])], None, [np.array([1.0, 1.0])]
        for _ in range(5):
            p, s = step(p, [A @ p[0]], s, {**ox.HYPER[name], "eta": eta})
            path.append(p[0])
        path = np.array(path)
        return path, ex.bowl_loss(A, path)

    cache = ex.RunCache(run, lambda th: ex.bowl_loss(A, th), grid=5)
    w = ox.make_digits_optimizer_widget(cache, list(ox.STEPS), eta=0.1, optimizer="SGD")
    before = _png(w)
    w.children[1].value = "Adam"
    assert _png(w) != before and calls == [(0.1, "SGD"), (0.1, "Adam")]


def test_widget_redraws_in_place_and_shows_what_a_new_figure_shows():
    """The optimizer widget redraws one persistent figure; after each pick it shows exactly plot_surface_run's pixels
    (switching the surface changes the contour map and the view: the right panel is drawn anew)."""
    import io

    from PIL import Image

    from course import descent_view

    def pixels(b64):
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGBA"))

    w = ox.make_optimizer_widget()
    slider, picker, surface = w.children[:3]
    fig = w.view.fig
    for control, value in ((picker, "momentum"), (slider, 0.3), (surface, "bowl"), (picker, "Adam"),
                           (surface, "two minima")):
        control.value = value
        want = descent_view.png_output(ox.plot_surface_run(w.cache, surface.value, picker.value, slider.value))
        np.testing.assert_array_equal(pixels(_png(w)), pixels(want["data"]["image/png"]), err_msg=f"{value}")
    assert w.view.fig is fig
