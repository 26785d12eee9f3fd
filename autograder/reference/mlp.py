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
    if np.iscomplexobj(z):
        return _complex_sigmoid(z)
    # exp(-|z|) lies in (0, 1], so nothing overflows (no RuntimeWarning) for any z. The value is
    # 1 / (1 + e) where z >= 0 and e / (1 + e) where z < 0: one division with the numerator chosen in place,
    # the same floating-point operations as np.where(z >= 0, 1 / (1 + e), e / (1 + e)) without its temporaries.
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    e = np.asarray(np.abs(z))  # a new array (np.asarray only turns a 0-d result back into an array)
    np.negative(e, out=e)
    np.exp(e, out=e)
    d = np.add(e, 1.0)
    np.copyto(e, 1.0, where=z >= 0)
    np.divide(e, d, out=e)
    return e


def _complex_sigmoid(z):
    """The same branches for complex z (used by complex-step derivatives only): 1 / (1 + exp(-z)) where Re z >= 0 and
    exp(z) / (1 + exp(z)) where Re z < 0. Both are the analytic logistic function and neither exponentiates a number
    with positive real part. Real input never comes here, so real results are untouched."""
    z = np.asarray(z, dtype=np.complex128)
    pos = z.real >= 0
    e = np.exp(np.where(pos, -z, z))
    return np.where(pos, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    s = sigmoid(z)
    t = 1.0 - s
    t *= s
    return t


def tanh_prime(z):
    return 1.0 - np.tanh(z) ** 2


def relu(z):
    if np.iscomplexobj(z):  # for complex-step derivatives: z where Re z > 0, else 0 (analytic away from the kink)
        return np.where(np.real(z) > 0, z, 0.0)
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
        z = W @ a
        z = _iadd(z, b)
        a = f(z)
        zs.append(z)
        acts.append(a)
    return zs, acts


def cost(Ws, bs, X, Y, activation="sigmoid", lam=0.0):
    """Mean over the batch of the summed squared error, plus (lam / 2m) * sum of squared weights."""
    m = X.shape[1]
    a_L = forward(Ws, bs, X, activation)[1][-1]
    J = _scalar(np.sum((a_L - Y) ** 2) / m)
    if lam:
        J += _scalar(lam / (2.0 * m) * sum(np.sum(W * W) for W in Ws))
    return J


def _scalar(v):
    """float(v) for a real result; complex(v) when a complex-step derivative runs the cost on complex parameters."""
    return complex(v) if np.iscomplexobj(v) else float(v)


def backprop(Ws, bs, X, Y, activation="sigmoid", lam=0.0):
    """Gradients of ``cost``: returns (dWs, dbs) with the shapes of (Ws, bs)."""
    f, f_prime = ACTIVATIONS[activation]
    # For the three built-in activations f'(z) is computed from a = f(z), which forward already holds; the results
    # are bit-for-bit those of f_prime(z) (the same operations on the same numbers), without evaluating f again.
    from_output = _PRIME_FROM_OUTPUT.get((f, f_prime))
    m = X.shape[1]
    zs, acts = forward(Ws, bs, X, activation)
    L = len(Ws)

    def fp(l):  # f'(z^{l+1}) as a new array
        return from_output(acts[l + 1]) if from_output is not None else f_prime(zs[l])

    # In place only into arrays made here (a user's f_prime might return one of its own arrays).
    mul = _imul if from_output is not None else np.multiply
    delta = mul(mul(fp(L - 1), 2.0 / m), acts[-1] - Y)
    dWs, dbs = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        dWs[l] = delta @ acts[l].T
        if lam:
            dWs[l] = _iadd(dWs[l], (lam / m) * Ws[l])
        dbs[l] = delta.sum(axis=1, keepdims=True)
        if l > 0:
            delta = mul(fp(l - 1), Ws[l].T @ delta)
    return dWs, dbs


def _sigmoid_prime_from_output(a):
    t = 1.0 - a
    t *= a
    return t


def _tanh_prime_from_output(a):
    return 1.0 - a ** 2


def _relu_prime_from_output(a):
    return (a > 0).astype(a.dtype)


# (f, f') -> f' written in terms of a = f(z). Keyed on the functions themselves: if ACTIVATIONS is changed, the
# changed entry falls back to f'(z).
_PRIME_FROM_OUTPUT = {
    (sigmoid, sigmoid_prime): _sigmoid_prime_from_output,
    (np.tanh, tanh_prime): _tanh_prime_from_output,
    (relu, relu_prime): _relu_prime_from_output,
}


def _iadd(x, y):
    """x + y, computed in place in x when x is an array that already has the result's dtype and shape."""
    if isinstance(x, np.ndarray) and np.result_type(x, y) == x.dtype:
        try:
            x += y  # a shape that does not fit raises before anything is written
            return x
        except ValueError:
            pass
    return x + y


def _imul(x, y):
    """x * y, computed in place in x under the same conditions as _iadd."""
    if isinstance(x, np.ndarray) and np.result_type(x, y) == x.dtype:
        try:
            x *= y
            return x
        except ValueError:
            pass
    return x * y


def one_hot(labels, k=10, dtype=np.float64):
    """(m,) integer labels -> (k, m) one-hot columns."""
    Y = np.zeros((k, len(labels)), dtype=dtype)
    Y[np.asarray(labels), np.arange(len(labels))] = 1.0
    return Y
