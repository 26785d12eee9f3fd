"""Helpers for notebooks 02 (backprop through any depth) and 03 (gradient checking): networks, figures, planted bugs.

Shapes follow the course's convention, examples as COLUMNS: X is (n_0, m); Ws[l] is W^{l+1} with shape
(n_{l+1}, n_l); bs[l] is b^{l+1} with shape (n_{l+1}, 1); J = (1/m) * sum over outputs and examples of (a^L - y)^2.
This module never imports the instructor's ``autograder`` package.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


# ---------------------------------------------------------------- a small network to experiment with (notebook 03)

def sigmoid(z):
    """Logistic function, elementwise, without overflow."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


ACTIVATIONS = {
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1.0 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(np.float64)),
}


def random_network(sizes, seed=0, m=5, weight_scale=1.5):
    """A random network and batch: returns (Ws, bs, X, Y).

    Weights are normal with standard deviation weight_scale / sqrt(n_in); biases are non-zero (between 0.1 and 0.5 in
    size, random signs); X is standard normal, shape (n_0, m); targets Y are uniform in (0.1, 0.9), shape (n_L, m).
    """
    rng = np.random.default_rng(seed)
    Ws, bs = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        Ws.append(rng.normal(0.0, weight_scale / np.sqrt(n_in), size=(n_out, n_in)))
        bs.append(rng.uniform(0.1, 0.5, size=(n_out, 1)) * rng.choice([-1.0, 1.0], size=(n_out, 1)))
    X = rng.normal(size=(sizes[0], m))
    Y = rng.uniform(0.1, 0.9, size=(sizes[-1], m))
    return Ws, bs, X, Y


def forward(Ws, bs, X, activation="sigmoid"):
    """(zs, acts): zs[l] = z^{l+1}, shape (n_{l+1}, m); acts[l] = a^l, with acts[0] = X."""
    f = ACTIVATIONS[activation][0]
    zs, acts = [], [X]
    for W, b in zip(Ws, bs):
        zs.append(W @ acts[-1] + b)
        acts.append(f(zs[-1]))
    return zs, acts


def cost(Ws, bs, X, Y, activation="sigmoid"):
    """J = (1/m) * sum (a^L - Y)^2, a float."""
    a_L = forward(Ws, bs, X, activation)[1][-1]
    return float(np.sum((a_L - Y) ** 2) / X.shape[1])


def backprop(Ws, bs, X, Y, activation="sigmoid"):
    """A correct backprop (the solution of notebook 02): (dWs, dbs) with the shapes of (Ws, bs)."""
    fp = ACTIVATIONS[activation][1]
    zs, acts = forward(Ws, bs, X, activation)
    delta = fp(zs[-1]) * (2.0 / X.shape[1]) * (acts[-1] - Y)
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for l in range(len(Ws) - 1, -1, -1):
        dWs[l] = delta @ acts[l].T
        dbs[l] = delta.sum(axis=1, keepdims=True)
        if l > 0:
            delta = fp(zs[l - 1]) * (Ws[l].T @ delta)
    return dWs, dbs


def n_params(sizes):
    """Number of weights and biases of a network with these layer sizes."""
    return int(sum(n_out * n_in + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])))


# ---------------------------------------------------------------- three backprops with a bug each (notebook 03)
#
# Written out layer by layer for a network with exactly three layers of weights, the way one might write backprop
# by hand for a fixed architecture. Each has one wrong line. They use the sigmoid.

def _three_layer_forward(Ws, bs, X):
    if len(Ws) != 3:
        raise ValueError("these planted-bug functions are written for exactly three layers of weights")
    W1, W2, W3 = Ws
    b1, b2, b3 = bs
    z1 = W1 @ X + b1
    a1 = sigmoid(z1)
    z2 = W2 @ a1 + b2
    a2 = sigmoid(z2)
    z3 = W3 @ a2 + b3
    a3 = sigmoid(z3)
    return (z1, z2, z3), (X, a1, a2, a3)


def backprop_bug_a(Ws, bs, X, Y):
    """Planted bug A (needs n_1 == n_2 to run at all)."""
    (z1, z2, z3), (a0, a1, a2, a3) = _three_layer_forward(Ws, bs, X)
    W1, W2, W3 = Ws
    sp = lambda z: sigmoid(z) * (1.0 - sigmoid(z))  # noqa: E731
    d3 = sp(z3) * (2.0 / X.shape[1]) * (a3 - Y)
    d2 = sp(z2) * (W3.T @ d3)
    d1 = sp(z1) * (W2 @ d2)
    dWs = [d1 @ a0.T, d2 @ a1.T, d3 @ a2.T]
    dbs = [d1.sum(axis=1, keepdims=True), d2.sum(axis=1, keepdims=True), d3.sum(axis=1, keepdims=True)]
    return dWs, dbs


def backprop_bug_b(Ws, bs, X, Y):
    """Planted bug B."""
    (z1, z2, z3), (a0, a1, a2, a3) = _three_layer_forward(Ws, bs, X)
    W1, W2, W3 = Ws
    sp = lambda z: sigmoid(z) * (1.0 - sigmoid(z))  # noqa: E731
    d3 = sp(z3) * (2.0 / X.shape[1]) * (a3 - Y)
    d2 = W3.T @ d3
    d1 = sp(z1) * (W2.T @ d2)
    dWs = [d1 @ a0.T, d2 @ a1.T, d3 @ a2.T]
    dbs = [d1.sum(axis=1, keepdims=True), d2.sum(axis=1, keepdims=True), d3.sum(axis=1, keepdims=True)]
    return dWs, dbs


def backprop_bug_c(Ws, bs, X, Y):
    """Planted bug C."""
    (z1, z2, z3), (a0, a1, a2, a3) = _three_layer_forward(Ws, bs, X)
    W1, W2, W3 = Ws
    sp = lambda z: sigmoid(z) * (1.0 - sigmoid(z))  # noqa: E731
    d3 = sp(z3) * (2.0 / X.shape[1]) * (a3 - Y)
    d2 = sp(z2) * (W3.T @ d3)
    d1 = sp(z1) * (W2.T @ d2)
    dWs = [d1 @ a0.T, d2 @ a1.T, d3 @ a2.T]
    dbs = [d1.sum(axis=1, keepdims=True), d2.sum(axis=1, keepdims=True), d3.sum(axis=0, keepdims=True)]
    return dWs, dbs


def xor_data(n=64, seed=0):
    """A two-class problem no straight line separates: the sign of x1 * x2. Returns X (2, n) and Y (1, n)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(2, n))
    Y = (X[0] * X[1] > 0).astype(np.float64).reshape(1, n)
    return X, Y


# ---------------------------------------------------------------- figures

def draw_chain(values=None, L=3):
    """The depth-1 chain of notes 002: a^(0) -> a^(1) -> ... -> a^(L) -> C, one unit per layer."""
    fig, ax = plt.subplots(figsize=(7, 1.8))
    for l in range(L + 1):
        ax.add_patch(plt.Circle((l, 0), 0.22, color="C2" if l == 0 else "C0", alpha=0.85))
        label = f"$a^{{({l})}}$" if values is None else f"$a^{{({l})}}$\n{values[l]:.3f}"
        ax.text(l, 0, label, ha="center", va="center", color="white", fontsize=9)
        if l < L:
            ax.annotate("", xy=(l + 0.76, 0), xytext=(l + 0.24, 0), arrowprops=dict(arrowstyle="->", color="0.4"))
            ax.text(l + 0.5, 0.12, f"$w^{{({l + 1})}}, b^{{({l + 1})}}$", ha="center", fontsize=9, color="C3")
    ax.annotate("", xy=(L + 0.7, 0), xytext=(L + 0.24, 0), arrowprops=dict(arrowstyle="->", color="0.4"))
    ax.text(L + 0.85, 0, "$C$", ha="center", va="center", fontsize=12)
    ax.set_xlim(-0.4, L + 1.1)
    ax.set_ylim(-0.35, 0.35)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


def plot_delta_norms(norms, title="Size of the error signal per layer"):
    """``norms``: dict label -> sequence of ||delta^m|| for m = 1..L. One line per label, log scale."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for label, values in norms.items():
        values = np.asarray(values, dtype=np.float64)
        ax.plot(np.arange(1, len(values) + 1), values, "o-", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer $m$ (input side left, output right)")
    ax.set_ylabel(r"$\|\delta^m\|$")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_eps_sweep(epsilons, errors, chosen=None):
    """Relative error of a central difference against the step eps, on log axes, with the two regimes marked."""
    eps = np.asarray(epsilons, dtype=np.float64)
    err = np.maximum(np.asarray(errors, dtype=np.float64), 1e-17)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.loglog(eps, err, "o-", label="relative error")
    i = int(np.argmin(err))
    # Guide lines through the two ends: truncation ~ eps^2, round-off ~ 1/eps.
    ax.loglog(eps, err[0] * (eps / eps[0]) ** 2, ":", color="C1", label=r"truncation $\propto \varepsilon^2$")
    ax.loglog(eps, err[-1] * (eps[-1] / eps), ":", color="C2", label=r"round-off $\propto 1/\varepsilon$")
    ax.set_ylim(max(err.min() / 10, 1e-17), err.max() * 10)
    ax.axvline(eps[i], color="0.7", lw=0.8)
    if chosen is not None:
        ax.axvline(chosen, color="C3", lw=1.2, ls="--", label=f"chosen eps = {chosen:g}")
    ax.invert_xaxis()
    ax.set_xlabel(r"step $\varepsilon$ (smaller to the right)")
    ax.set_ylabel("relative error")
    ax.set_title("Central differences: both too big and too small a step hurt", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_timing(P, t_backprop, t_numerical):
    """Seconds per gradient against the number of parameters P, log-log, with slope-1 and slope-2 guides."""
    P = np.asarray(P, dtype=np.float64)
    tb = np.asarray(t_backprop, dtype=np.float64)
    tn = np.asarray(t_numerical, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.loglog(P, tb, "o-", label="backprop (1 forward + 1 backward)")
    ax.loglog(P, tn, "s-", label="numerical (2P forward passes)")
    ax.loglog(P, tn[-1] * (P / P[-1]) ** 2, ":", color="0.5", label=r"$\propto P^2$")
    ax.loglog(P, tb[-1] * (P / P[-1]), "--", color="0.5", label=r"$\propto P$")
    ax.set_xlabel("number of parameters $P$")
    ax.set_ylabel("seconds per gradient")
    ax.set_title("The cost of one gradient")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
