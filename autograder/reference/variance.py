"""The instructor's reference for notebook 04's parts on activations: the activations with their slopes, the variance a
layer passes to the next one (the derivation behind Xavier and He), and the measured spread of z layer by layer.

Var(z^{l+1}) = n_l Var(w) E[(a^l)^2] for independent weights of mean 0 and biases 0. E[a^2] for z ~ N(0, v), to first
order in the linear regime where that is not exact: ReLU v / 2 (exact: half the inputs are zeroed), tanh v (tanh(z) ~ z),
sigmoid 1/4 + v / 16 (sigmoid(z) ~ 1/2 + z / 4: its mean 1/2 is squared too).
"""
from __future__ import annotations

import numpy as np

from . import mlp

ACTS = ("sigmoid", "tanh", "relu")


def act_and_slope(z, name):
    """(f(z), f'(z)) elementwise for name in ACTS."""
    f, fp = mlp.ACTIVATIONS[name]
    z = np.asarray(z, dtype=np.float64)
    return f(z), fp(z)


def second_moment(var_z, name):
    """E[f(z)^2] for z ~ N(0, var_z), in the linear approximation for sigmoid and tanh (exact for ReLU)."""
    if name == "relu":
        return var_z / 2.0
    if name == "tanh":
        return var_z
    if name == "sigmoid":
        return 0.25 + var_z / 16.0
    raise ValueError(f"unknown activation {name!r}")


def next_z_variance(var_z, n_in, var_w, name):
    """Var(z^{l+1}) from Var(z^l): n_in * var_w * E[f(z^l)^2]."""
    return float(n_in * var_w * second_moment(var_z, name))


def z_stds(Ws, bs, X, name):
    """np.std of all entries of z^l, one number per layer l = 1..L."""
    zs, _ = mlp.forward(Ws, bs, X, name)
    return np.array([float(np.std(z)) for z in zs])
