"""autograder/reference/mlp.py's backprop against gradients that do not come from mlp.py.

The expected gradients are central differences (autograder/checks/numgrad.py, the course's one numerical gradient) of a
cost written here from the formula, in the other layout (examples as rows) and with its own activations; and, when
torch is importable, torch's autograd on that same formula. mlp.py is only ever the thing being checked.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from autograder.reference import mlp
from autograder.checks.numgrad import numerical_gradient, relative_error

# Independent activations (sigmoid by a different formula than mlp.py's), each overflow-free.
ACTS = {
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0, z, 0.0),
}
# Central differences at h = 1e-6 carry a round-off of about 1e-16 * |J| / h ~ 1e-9 here; the floor keeps a small
# gradient (a bias gradient of 1e-3, say) from turning that into a large ratio. A real bug gives O(1) errors.
TOL, FLOOR = 1e-6, 1e-2


def independent_cost(Ws, bs, X, Y, act, lam):
    """J = (1/m) sum (a^L - y)^2 + lam/(2m) sum ||W||^2, with examples as ROWS (the transpose of mlp.py)."""
    A = X.T
    for W, b in zip(Ws, bs):
        A = act(A @ W.T + b.reshape(1, -1))
    m = X.shape[1]
    return float(np.sum((A - Y.T) ** 2) / m + lam / (2.0 * m) * sum(np.sum(W ** 2) for W in Ws))


def preactivations(Ws, bs, X, act):
    A, out = X.T, []
    for W, b in zip(Ws, bs):
        Z = A @ W.T + b.reshape(1, -1)
        out.append(Z)
        A = act(Z)
    return out


def numeric_grads(Ws, bs, X, Y, act, lam):
    """Central differences of independent_cost for every W and b, one parameter array at a time."""
    params = list(Ws) + list(bs)
    L = len(Ws)
    grads = []
    for i in range(len(params)):
        def f(p, i=i):
            trial = [q if j != i else p for j, q in enumerate(params)]
            return independent_cost(trial[:L], trial[L:], X, Y, act, lam)
        grads.append(numerical_gradient(f, params[i]))
    return grads[:L], grads[L:]


def random_case(seed, activation, sizes=None, m=None):
    """A small network with non-zero biases and a batch; for relu, no pre-activation near the kink at 0."""
    rng = np.random.default_rng(seed)
    for attempt in range(100):
        sz = sizes or [int(n) for n in rng.integers(2, 6, size=int(rng.integers(3, 5)))]
        mm = m or int(rng.integers(1, 7))
        Ws = [rng.normal(0.0, 0.8, (n_out, n_in)) for n_in, n_out in zip(sz[:-1], sz[1:])]
        bs = [rng.uniform(-0.5, 0.5, (n_out, 1)) for n_out in sz[1:]]
        X = rng.normal(0.0, 1.0, (sz[0], mm))
        Y = rng.uniform(0.0, 1.0, (sz[-1], mm))
        if activation != "relu" or min(np.abs(z).min() for z in preactivations(Ws, bs, X, ACTS["relu"])) > 1e-3:
            return Ws, bs, X, Y
    raise AssertionError("no relu case away from the kink")  # pragma: no cover


CASES = [(act, lam, seed) for act in ("sigmoid", "tanh", "relu") for lam in (0.0, 0.7, 3.0) for seed in (0, 1)]


@pytest.mark.parametrize("activation,lam,seed", CASES)
def test_backprop_matches_central_differences(activation, lam, seed):
    Ws, bs, X, Y = random_case(100 * seed + len(activation), activation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning zeroes a notebook cell: mlp.py must not emit any
        dWs, dbs = mlp.backprop(Ws, bs, X, Y, activation, lam)
    nWs, nbs = numeric_grads(Ws, bs, X, Y, ACTS[activation], lam)
    for l, (got, want) in enumerate(zip(dWs, nWs)):
        assert got.shape == Ws[l].shape and got.dtype == np.float64
        assert relative_error(got, want, floor=FLOOR) < TOL, f"dJ/dW^{l + 1} ({activation}, lam={lam})"
    for l, (got, want) in enumerate(zip(dbs, nbs)):
        assert got.shape == bs[l].shape and got.dtype == np.float64
        assert relative_error(got, want, floor=FLOOR) < TOL, f"dJ/db^{l + 1} ({activation}, lam={lam})"


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_cost_matches_the_formula(activation):
    Ws, bs, X, Y = random_case(7, activation)
    for lam in (0.0, 1.3):
        want = independent_cost(Ws, bs, X, Y, ACTS[activation], lam)
        assert mlp.cost(Ws, bs, X, Y, activation, lam) == pytest.approx(want, rel=1e-13)


def test_regularization_adds_lam_over_m_times_W():
    """dJ/dW with lam minus dJ/dW without lam is exactly (lam/m) W (up to rounding); biases are not regularized."""
    Ws, bs, X, Y = random_case(3, "sigmoid", sizes=[4, 3, 2], m=5)
    g0, g1 = mlp.backprop(Ws, bs, X, Y, "sigmoid", 0.0), mlp.backprop(Ws, bs, X, Y, "sigmoid", 2.5)
    for W, a, b in zip(Ws, g0[0], g1[0]):
        np.testing.assert_allclose(b - a, (2.5 / 5) * W, rtol=1e-12, atol=1e-15)
    for a, b in zip(g0[1], g1[1]):
        np.testing.assert_array_equal(a, b)


def test_inputs_are_not_modified():
    Ws, bs, X, Y = random_case(4, "tanh", sizes=[3, 4, 2], m=3)
    before = [a.copy() for a in [*Ws, *bs, X, Y]]
    mlp.backprop(Ws, bs, X, Y, "tanh", 0.5)
    mlp.cost(Ws, bs, X, Y, "tanh", 0.5)
    for a, b in zip(before, [*Ws, *bs, X, Y]):
        np.testing.assert_array_equal(a, b)


def test_changed_activation_entry_uses_its_own_derivative(monkeypatch):
    """An activation that mlp.py does not know (here softplus) goes through f'(z); backprop still matches."""
    softplus = lambda z: np.logaddexp(0.0, z)  # noqa: E731
    logistic = lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))  # noqa: E731
    monkeypatch.setitem(mlp.ACTIVATIONS, "softplus", (softplus, logistic))
    Ws, bs, X, Y = random_case(5, "softplus", sizes=[3, 4, 3, 2], m=4)
    dWs, dbs = mlp.backprop(Ws, bs, X, Y, "softplus", 0.4)
    nWs, nbs = numeric_grads(Ws, bs, X, Y, softplus, 0.4)
    for got, want in zip(dWs + dbs, nWs + nbs):
        assert relative_error(got, want, floor=FLOOR) < TOL


def test_sigmoid_values_and_no_overflow_warning():
    z = np.array([-1000.0, -745.0, -30.0, -1.0, -0.0, 0.0, 0.5, 30.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = mlp.sigmoid(z)
        s32 = mlp.sigmoid(z.astype(np.float32))
        sp = mlp.sigmoid_prime(z)
    want = [1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0 for v in z]
    np.testing.assert_allclose(s, want, rtol=1e-15, atol=1e-300)
    assert s32.dtype == np.float32
    np.testing.assert_allclose(s32, want, rtol=1e-6, atol=1e-38)
    np.testing.assert_allclose(sp, [w * (1.0 - w) for w in want], rtol=1e-14, atol=1e-300)
    assert float(mlp.sigmoid(0.0)) == 0.5


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_float32_stays_float32(activation):
    """float32 parameters and data give float32 gradients (no silent upcast), close to the float64 ones."""
    Ws, bs, X, Y = random_case(11, activation, sizes=[6, 5, 3], m=8)
    g64 = mlp.backprop(Ws, bs, X, Y, activation, 0.3)
    f32 = lambda arrs: [a.astype(np.float32) for a in arrs]  # noqa: E731
    g32 = mlp.backprop(f32(Ws), f32(bs), X.astype(np.float32), Y.astype(np.float32), activation, 0.3)
    zs, acts = mlp.forward(f32(Ws), f32(bs), X.astype(np.float32), activation)
    assert all(a.dtype == np.float32 for a in zs + acts)
    for a, b in zip(g32[0] + g32[1], g64[0] + g64[1]):
        assert a.dtype == np.float32
        assert relative_error(a, b, floor=1e-6) < 1e-5


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_backprop_matches_torch_autograd(activation):
    torch = pytest.importorskip(
        "torch", reason="torch is an optional benchmark-only dependency (pip install torch==2.13.0); not installed")
    Ws, bs, X, Y = random_case(21, activation, sizes=[5, 4, 3, 2], m=6)
    lam = 0.9
    tW = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in Ws]
    tb = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in bs]
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    A = torch.tensor(X.T)
    for W, b in zip(tW, tb):
        A = act(A @ W.T + b.T)
    m = X.shape[1]
    J = ((A - torch.tensor(Y.T)) ** 2).sum() / m + lam / (2 * m) * sum((W ** 2).sum() for W in tW)
    J.backward()
    dWs, dbs = mlp.backprop(Ws, bs, X, Y, activation, lam)
    for got, want in zip(dWs + dbs, [W.grad.numpy() for W in tW] + [b.grad.numpy() for b in tb]):
        assert relative_error(got, want) < 1e-12
