"""The one numerical-gradient implementation, against analytic derivatives it never computes itself."""
import numpy as np
import pytest

from autograder.checks.numgrad import elementwise_derivative, numerical_gradient, relative_error


@pytest.mark.parametrize("shape", [(3,), (2, 4), (2, 2, 3)])
def test_gradient_of_quadratic_form(shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    A = rng.normal(size=(x.size, x.size))
    f = lambda v: float(v.ravel() @ A @ v.ravel())
    exact = ((A + A.T) @ x.ravel()).reshape(shape)  # d/dx x^T A x = (A + A^T) x
    assert relative_error(numerical_gradient(f, x), exact) < 1e-7


def test_gradient_of_transcendental_function():
    x = np.array([0.3, -1.2, 2.0])
    f = lambda v: float(np.sum(np.sin(v) * np.exp(v)))
    exact = np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x)
    assert relative_error(numerical_gradient(f, x), exact) < 1e-7


def test_gradient_of_log_sum_exp():
    x = np.array([1.0, 2.0, -0.5, 0.25])
    f = lambda v: float(np.log(np.sum(np.exp(v))))
    exact = np.exp(x) / np.sum(np.exp(x))  # softmax
    assert relative_error(numerical_gradient(f, x), exact) < 1e-7


def test_input_is_not_modified_and_integer_input_works():
    x = np.array([1, 2, 3])
    g = numerical_gradient(lambda v: float(np.sum(v ** 2)), x)
    assert x.dtype.kind == "i" and list(x) == [1, 2, 3]
    assert relative_error(g, [2.0, 4.0, 6.0]) < 1e-7


def test_sampled_indices_leave_nan_elsewhere():
    x = np.arange(6.0).reshape(2, 3)
    g = numerical_gradient(lambda v: float(np.sum(v ** 3)), x, indices=[(0, 1), (1, 2)])
    assert np.isclose(g[0, 1], 3.0) and np.isclose(g[1, 2], 75.0)
    assert np.isnan(g[0, 0]) and np.isnan(g[1, 1])


def test_elementwise_derivative_of_tanh():
    z = np.linspace(-3, 3, 13)
    assert relative_error(elementwise_derivative(np.tanh, z), 1 - np.tanh(z) ** 2) < 1e-7


def test_relative_error_properties():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert np.isclose(relative_error(a, -a), 1.0)
    assert np.isclose(relative_error(a, 2 * a), 1 / 3)
    assert relative_error([1e-12], [2e-12], floor=1e-4) < 1e-7  # tiny gradients are judged absolutely
