"""The course's reference multilayer perceptron: vectorized numpy, examples as columns (the seeds' convention).

Shapes, for layer sizes ``sizes = [n_0, n_1, ..., n_L]`` and a batch of ``m`` examples:

* ``X``: (n_0, m), one example per column; ``Y``: (n_L, m).
* ``Ws[l]``: (n_{l+1}, n_l) is W^{l+1};  ``bs[l]``: (n_{l+1}, 1) is b^{l+1}.
* ``z^m = W^m a^{m-1} + b^m`` and ``a^m = f(z^m)``, with ``a^0 = X``.
* Cost: ``J = (1/m) * sum over examples and outputs of (a^L - y)^2 + (lam / (2m)) * sum_l ||W^l||^2``
  (weights only: biases are never regularized).

Backprop is the recursion of notebook 02: ``delta^L = f'(z^L) * dJ/da^L``, ``delta^l = f'(z^l) * (W^{l+1})^T delta^{l+1}``,
``dJ/dW^l = delta^l (a^{l-1})^T``, ``dJ/db^l = delta^l`` summed over the batch (the 1/m is inside delta^L here).
This module is the instructor's copy of the solutions of notebooks 02, 05 and 06; tests check that they agree.
"""
from __future__ import annotations

import numpy as np


def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh_prime(z):
    return 1.0 - np.tanh(z) ** 2


def relu(z):
    return np.maximum(z, 0.0)


def relu_prime(z):
    return (z > 0).astype(z.dtype)


#: name -> (f, f'), each elementwise.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (np.tanh, tanh_prime),
    "relu": (relu, relu_prime),
}


def init_params(sizes, rng, scale=None, dtype=np.float64):
    """Weights uniform in [-eps, eps] with eps = sqrt(6 / (n_in + n_out)) unless ``scale`` is given; small biases."""
    Ws, bs = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        eps = np.sqrt(6.0 / (n_in + n_out)) if scale is None else scale
        Ws.append(rng.uniform(-eps, eps, size=(n_out, n_in)).astype(dtype))
        bs.append(rng.uniform(-0.1, 0.1, size=(n_out, 1)).astype(dtype))
    return Ws, bs


def forward(Ws, bs, X, activation="sigmoid"):
    """Returns (zs, activations): zs[l] is z^{l+1}, shape (n_{l+1}, m); activations[l] is a^l, with a^0 = X."""
    f = ACTIVATIONS[activation][0]
    a = X
    zs, acts = [], [X]
    for W, b in zip(Ws, bs):
        z = W @ a + b
        a = f(z)
        zs.append(z)
        acts.append(a)
    return zs, acts


def cost(Ws, bs, X, Y, activation="sigmoid", lam=0.0):
    """Mean over the batch of the summed squared error, plus (lam / 2m) * sum of squared weights."""
    m = X.shape[1]
    a_L = forward(Ws, bs, X, activation)[1][-1]
    J = float(np.sum((a_L - Y) ** 2) / m)
    if lam:
        J += float(lam / (2.0 * m) * sum(np.sum(W * W) for W in Ws))
    return J


def backprop(Ws, bs, X, Y, activation="sigmoid", lam=0.0):
    """Gradients of ``cost``: returns (dWs, dbs) with the shapes of (Ws, bs)."""
    f_prime = ACTIVATIONS[activation][1]
    m = X.shape[1]
    zs, acts = forward(Ws, bs, X, activation)
    delta = f_prime(zs[-1]) * (2.0 / m) * (acts[-1] - Y)
    L = len(Ws)
    dWs, dbs = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        dWs[l] = delta @ acts[l].T
        if lam:
            dWs[l] = dWs[l] + (lam / m) * Ws[l]
        dbs[l] = delta.sum(axis=1, keepdims=True)
        if l > 0:
            delta = f_prime(zs[l - 1]) * (Ws[l].T @ delta)
    return dWs, dbs


def one_hot(labels, k=10, dtype=np.float64):
    """(m,) integer labels -> (k, m) one-hot columns."""
    Y = np.zeros((k, len(labels)), dtype=dtype)
    Y[np.asarray(labels), np.arange(len(labels))] = 1.0
    return Y
