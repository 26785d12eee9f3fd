"""Instructor reference forward passes. Hidden tests differentiate these numerically; they never trust the student's
own forward pass to define the cost."""
from __future__ import annotations

import numpy as np


def sigmoid(z):
    """Stable logistic function: never evaluates exp of a large positive number."""
    if np.iscomplexobj(z):  # complex-step derivatives only: the same two branches, chosen by Re z (analytic)
        z = np.asarray(z, dtype=np.complex128)
        pos = z.real >= 0
        e = np.exp(np.where(pos, -z, z))
        return np.where(pos, 1.0 / (1.0 + e), e / (1.0 + e))
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _scalar(v):
    """float(v), or complex(v) when a complex-step derivative runs the reference on complex numbers."""
    return complex(v) if np.iscomplexobj(v) else float(v)


def neuron_cost(a_prev, w, b, y):
    """C = (y - sigma(a_prev . w + b))^2 for one neuron with n inputs (complex-safe, for complex-step derivatives)."""
    return _scalar((y - sigmoid(np.dot(a_prev, w) + b)) ** 2)


NET221_WEIGHTS = ("w1", "w2", "w3", "w4", "w5", "w6")
NET221_BIASES = ("b1", "b2", "b3")
NET221_KEYS = NET221_WEIGHTS + NET221_BIASES


def net221_forward(p, x):
    """The 2-2-1 network: h1 = s(w1 x1 + w2 x2 + b1), h2 = s(w3 x1 + w4 x2 + b2), o1 = s(w5 h1 + w6 h2 + b3)."""
    x1, x2 = float(x[0]), float(x[1])
    h1 = sigmoid(p["w1"] * x1 + p["w2"] * x2 + p["b1"])
    h2 = sigmoid(p["w3"] * x1 + p["w4"] * x2 + p["b2"])
    o1 = sigmoid(p["w5"] * h1 + p["w6"] * h2 + p["b3"])
    return {"h1": _scalar(h1), "h2": _scalar(h2), "o1": _scalar(o1)}


def net221_loss(p, x, y):
    """L = (y - o1)^2 on one example."""
    return (y - net221_forward(p, x)["o1"]) ** 2


def net221_mse(p, X, Y):
    """Mean of (y - o1)^2 over a data set."""
    return float(np.mean([net221_loss(p, x, y) for x, y in zip(X, Y)]))
