"""What the learning-rate explorer computes, checked against closed forms (no browser, no kernel)."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course import explorer as ex


def test_diagonal_bowl_iterates_have_the_closed_form():
    lam = np.array([1.0, 10.0])
    w0 = np.array([-1.6, 0.9])
    eta, steps = 0.13, 25
    path = ex.bowl_path(np.diag(lam), w0, eta, steps)
    k = np.arange(steps + 1)[:, None]
    assert path.shape == (steps + 1, 2)
    np.testing.assert_allclose(path, (1.0 - eta * lam) ** k * w0, rtol=1e-12, atol=1e-15)


def test_rotated_bowl_follows_the_eigenbasis():
    theta = 0.6
    Q = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    lam = np.array([0.5, 4.0])
    A = Q @ np.diag(lam) @ Q.T
    w0 = np.array([1.0, -2.0])
    eta = 0.3
    path = ex.bowl_path(A, w0, eta, 10)
    want = np.array([Q @ ((1 - eta * lam) ** k * (Q.T @ w0)) for k in range(11)])
    np.testing.assert_allclose(path, want, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ex.stable_threshold(A), 2 / 4.0)


def test_loss_curve_plotted_for_a_known_eta():
    # f(w_k) = 1/2 sum_i lam_i (1 - eta lam_i)^(2k) w0_i^2
    lam = np.array([1.0, 10.0])
    w0 = ex.BOWL_W0
    eta = ex.BOWL_PRESETS["oscillating"]
    losses = ex.bowl_loss(np.diag(lam), ex.bowl_path(np.diag(lam), w0, eta, 30))
    k = np.arange(31)
    want = 0.5 * ((1 - eta * lam[0]) ** (2 * k) * lam[0] * w0[0] ** 2 + (1 - eta * lam[1]) ** (2 * k) * lam[1] * w0[1] ** 2)
    np.testing.assert_allclose(losses, want, rtol=1e-12)
    assert np.all(np.diff(losses) < 0), "below the threshold the loss falls at every step, even while oscillating"


def test_gradient_is_A_w():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    w = np.array([0.3, -0.7])
    h = 1e-6
    num = np.array([(ex.bowl_loss(A, w + h * e) - ex.bowl_loss(A, w - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(ex.bowl_gradient(A, w), num, rtol=1e-8)


@pytest.mark.parametrize("eta, kind", [(0.05, "smooth"), (0.099, "smooth"), (0.101, "oscillating"), (0.18, "oscillating"),
                                       (0.2, "borderline"), (0.21, "diverging"), (10.0, "diverging")])
def test_regimes_on_the_course_bowl(eta, kind):
    assert ex.regime(eta, ex.BOWL_A) == kind


def test_presets_show_their_names():
    for name, eta in ex.BOWL_PRESETS.items():
        assert ex.regime(eta, ex.BOWL_A) == name
    path = ex.bowl_path(ex.BOWL_A, ex.BOWL_W0, ex.BOWL_PRESETS["oscillating"], 10)
    steep = path[:, 1]
    assert np.all(np.sign(steep[1:]) == -np.sign(steep[:-1])), "the oscillating preset flips the steep coordinate"


def test_divergence_is_detected_just_past_the_threshold_and_not_below():
    thr = ex.stable_threshold(ex.BOWL_A)
    above = ex.bowl_loss(ex.BOWL_A, ex.bowl_path(ex.BOWL_A, ex.BOWL_W0, 1.02 * thr, 400))
    below = ex.bowl_loss(ex.BOWL_A, ex.bowl_path(ex.BOWL_A, ex.BOWL_W0, 0.98 * thr, 400))
    k = ex.detect_divergence(above)
    assert k is not None
    # the loss first passes 10x its running minimum there, and not before
    assert above[k] > 10 * np.min(above[:k]) and np.all(above[1:k] <= 10 * np.minimum.accumulate(above)[:k - 1])
    assert ex.detect_divergence(below) is None


def test_divergence_detector_on_plain_sequences():
    assert ex.detect_divergence([5.0, 4.0, 3.0, 2.0]) is None
    assert ex.detect_divergence([5.0, 1.0, 12.0]) == 2
    assert ex.detect_divergence([1.0, np.inf]) == 1
    assert ex.detect_divergence([1.0, np.nan, 0.5]) == 1
    assert ex.detect_divergence([1.0, 1.5], factor=1.2) == 1


def test_huge_eta_stops_the_path_without_overflow_warnings():
    with np.errstate(all="raise"):
        path = ex.bowl_path(ex.BOWL_A, ex.BOWL_W0, 10.0, 1000)
    assert len(path) < 20 and np.linalg.norm(path[-1]) > ex.BLOWUP and np.all(np.isfinite(path))


def test_status_label_names_divergence():
    losses = ex.bowl_loss(ex.BOWL_A, ex.bowl_path(ex.BOWL_A, ex.BOWL_W0, 0.21, 30))
    assert ex.bowl_status(0.21, ex.BOWL_A, losses).startswith("diverging")
    losses = ex.bowl_loss(ex.BOWL_A, ex.bowl_path(ex.BOWL_A, ex.BOWL_W0, 0.05, 30))
    assert ex.bowl_status(0.05, ex.BOWL_A, losses) == "smooth"


def test_plot_bowl_draws_two_panels():
    import matplotlib.pyplot as plt
    fig = ex.plot_bowl(0.21)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title(loc="right").startswith("diverging")
    assert fig.axes[1].get_xlim() == (-2.0, 2.0)
    plt.close(fig)


def test_flatten_round_trip_and_plane():
    rng = np.random.default_rng(0)
    sizes = [4, 3, 2]
    Ws = [rng.normal(size=(3, 4)), rng.normal(size=(2, 3))]
    bs = [rng.normal(size=(3, 1)), rng.normal(size=(2, 1))]
    theta = ex.flatten(Ws, bs)
    assert theta.shape == (12 + 6 + 3 + 2,)
    Ws2, bs2 = ex.unflatten(theta, sizes)
    for a, b in zip(Ws + bs, Ws2 + bs2):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        ex.unflatten(theta[:-1], sizes)
    # a path that lies in a plane is reproduced exactly by its 2-D coordinates
    d1, d2 = rng.normal(size=23), rng.normal(size=23)
    thetas = np.array([theta + np.cos(t) * d1 + np.sin(2 * t) * d2 for t in np.linspace(0, 2, 9)])
    origin, D, coords = ex.path_plane(thetas)
    np.testing.assert_allclose(D @ D.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(origin + coords @ D, thetas, atol=1e-10)


def test_run_cache_runs_each_setting_once():
    calls = []
    A = np.diag([1.0, 3.0])

    def run(eta, batch_size):
        calls.append((eta, batch_size))
        path = ex.bowl_path(A, [1.0, 1.0], eta, 10)
        return path, ex.bowl_loss(A, path)

    cache = ex.RunCache(run, lambda th: ex.bowl_loss(A, th), grid=5)
    first = cache.get(0.1, 10)
    again = cache.get(0.1000001, 10)
    cache.get(0.1, 1)
    assert calls == [(0.1, 10), (0.1, 1)]
    assert first is again
    xs, ys, zs = first[4]
    assert zs.shape == (5, 5)


def test_widgets_are_built_and_skipped_when_grading(monkeypatch, capsys):
    w = ex.make_bowl_widget()
    kinds = [c.__class__.__name__ for c in w.children]
    assert kinds[:2] == ["FloatLogSlider", "Dropdown"] and "widget-interact" in w._dom_classes
    slider = w.children[0]
    assert slider.min == -3 and slider.max == 1 and slider.base == 10
    w.children[1].value = "diverging"
    assert slider.value == pytest.approx(ex.BOWL_PRESETS["diverging"], rel=0.03)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert ex.bowl_explorer() is None
    assert ex.digits_explorer(lambda e, b: None, lambda t: 0.0) is None
    out = capsys.readouterr()
    assert "skipped" in out.out and out.err == ""


def test_digit_run_labels():
    assert ex.digits_status([2.2, 0.9, 0.7, 0.5, 0.3]) == "learning"
    assert ex.digits_status([2.2, 0.9, 0.9, 0.89, 0.88]).startswith("stalled")
    assert ex.digits_status([2.2, 0.9, 0.6, 1.0, 0.8]).startswith("unstable")


def test_digits_widget_presets_move_both_controls():
    A = np.diag([1.0, 2.0])

    def run(eta, batch_size):
        path = ex.bowl_path(A, [1.0, 1.0], eta, 5)
        return path, ex.bowl_loss(A, path)

    cache = ex.RunCache(run, lambda th: ex.bowl_loss(A, th), grid=5)
    w = ex.make_digits_widget(cache, batch_sizes=(1, 10, 100))
    slider, size, preset = w.children[:3]
    preset.value = "too large"
    assert size.value == ex.DIGITS_PRESETS["too large"][1]
    assert slider.value == pytest.approx(ex.DIGITS_PRESETS["too large"][0], rel=0.03)
    assert len(cache.store) >= 1


def test_widget_output_is_a_png_set_as_state():
    """The figure goes into the Output widget's outputs (plain widget state), not printed into it (nbclient#312)."""
    w = ex.make_bowl_widget()
    outs = w.out.outputs
    assert len(outs) == 1 and outs[0]["output_type"] == "display_data"
    import base64
    assert base64.b64decode(outs[0]["data"]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    before = outs[0]["data"]["image/png"]
    w.children[0].value = 0.21
    assert len(w.out.outputs) == 1 and w.out.outputs[0]["data"]["image/png"] != before


def _pixels(png_b64):
    import base64
    import io

    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(png_b64))).convert("RGBA"))


def _rebuilt(picture):
    """The picture drawn the old way: a new figure, encoded as the widgets did before DescentView."""
    from course import descent_view
    return _pixels(descent_view.png_output(descent_view.plot_descent(**picture))["data"]["image/png"])


def test_persistent_view_draws_the_same_pixels_as_a_new_figure():
    """DescentView redraws one figure in place; move after move it must show exactly what plot_descent draws."""
    from course.descent_view import DescentView
    view = DescentView()
    # smooth, oscillating, diverging (the path leaves the map: the mark appears), back, far out, and a rotated bowl
    for eta in (0.05, 0.18, 0.21, 0.05, 10.0, 0.19):
        picture = ex.bowl_picture(eta)
        np.testing.assert_array_equal(_pixels(view.png(**picture)), _rebuilt(picture), err_msg=f"bowl, eta {eta}")
    # a path along the frame: the frame is drawn over the path, as in a full draw
    edge = dict(ex.bowl_picture(0.05), path=np.array([[-2.0, -2.0], [2.0, -2.0], [2.0, 2.0], [-1.5, 2.0]]),
                losses=np.array([3.0, 2.0, 1.0, 0.5]))
    np.testing.assert_array_equal(_pixels(view.png(**edge)), _rebuilt(edge), err_msg="a path along the frame")
    A = np.diag([1.0, 3.0])

    def run(eta, batch_size):
        path = ex.bowl_path(A, [1.0, 1.0], eta, 10 * batch_size)
        return path, ex.bowl_loss(A, path)

    cache = ex.RunCache(run, lambda th: ex.bowl_loss(A, th), grid=7)
    view = DescentView()
    for eta, size in ((0.1, 1), (0.5, 1), (0.1, 2), (0.7, 1)):  # no fixed view: a new contour map each run
        picture = ex.digits_picture(cache, eta, size, steps_per_point=200)
        np.testing.assert_array_equal(_pixels(view.png(**picture)), _rebuilt(picture), err_msg=f"run {eta}, {size}")


def test_the_widget_redraws_one_figure_and_the_baseline_switch_does_not(monkeypatch):
    from course import descent_view
    w = ex.make_bowl_widget()
    fig = w.view.fig
    w.children[0].value = 0.21
    assert w.view.fig is fig, "a move should redraw the same figure"
    np.testing.assert_array_equal(_pixels(w.out.outputs[0]["data"]["image/png"]), _rebuilt(ex.bowl_picture(0.21)))
    monkeypatch.setattr(descent_view, "REBUILD", True)
    old = ex.make_bowl_widget()
    assert old.view is None
    old.children[0].value = 0.21
    assert old.out.outputs[0]["data"]["image/png"]
