"""The reference for notebook 07: a softmax output with cross-entropy, the optimizers, a schedule and a 2-D surface.

Conventions are the course's (``autograder.reference.mlp``): one example per column, ``Ws[l]`` is W^{l+1}, sigmoid
hidden layers. The output layer here is a softmax, a^L = softmax(z^L) column by column, and the cost is the
cross-entropy ``J = -(1/m) sum_i sum_j y_ji log a^L_ji`` (each column of Y sums to 1). Its output error is
``delta^L = (a^L - Y) / m``: no f'(z^L) factor.

Every optimizer has one signature, ``step(params, grads, state, hyper) -> (new_params, new_state)``: ``params`` and
``grads`` are lists of arrays (never modified), ``state`` is None on the first call and whatever the previous call
returned afterwards, ``hyper`` a dict of hyper-parameters. The forms, with g the gradient and t = 1, 2, ... the step:

* momentum (Polyak's heavy ball, as in Goodfellow, Bengio & Courville, *Deep Learning*, Algorithm 8.2):
  ``v <- beta v - eta g;  theta <- theta + v``;
* RMSProp (Tieleman & Hinton, 2012): ``s <- rho s + (1 - rho) g^2;  theta <- theta - eta g / (sqrt(s) + eps)``;
* Adam (Kingma & Ba, 2015): ``m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  mhat = m / (1 - b1^t);
  vhat = v / (1 - b2^t);  theta <- theta - eta mhat / (sqrt(vhat) + eps)``.

The functions of the network accept complex arrays, so ``numgrad.complex_step_gradient`` can differentiate ``cost``.
"""
from __future__ import annotations

import numpy as np

from .mlp import init_params, sigmoid

# ---------------------------------------------------------------- softmax and cross-entropy


def softmax(Z):
    """Column-wise softmax, shifted by each column's largest (real part of the) logit: no overflow for any input."""
    Z = np.asarray(Z)
    shift = np.max(np.real(Z), axis=0, keepdims=True)
    E = np.exp(Z - shift)
    return E / np.sum(E, axis=0, keepdims=True)


def log_softmax(Z):
    """log softmax(Z), column-wise, by the log-sum-exp shift (finite even where softmax underflows to 0)."""
    Z = np.asarray(Z)
    S = Z - np.max(np.real(Z), axis=0, keepdims=True)
    return S - np.log(np.sum(np.exp(S), axis=0, keepdims=True))


def cross_entropy(A, Y):
    """-(1/m) sum of Y * log A, from probabilities A; entries where Y is 0 contribute 0 (even where A is 0)."""
    A, Y = np.asarray(A, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    m = A.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(Y != 0, Y * np.log(np.where(Y != 0, A, 1.0)), 0.0)
    return float(-np.sum(terms) / m)


def forward(Ws, bs, X):
    """(zs, acts): sigmoid hidden layers, softmax output; acts[0] = X."""
    zs, acts = [], [X]
    L = len(Ws)
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = W @ acts[-1] + b
        zs.append(z)
        acts.append(softmax(z) if l == L - 1 else sigmoid(z))
    return zs, acts


def cost(Ws, bs, X, Y):
    """Cross-entropy of the softmax output, computed from the logits z^L (log-softmax): complex-step safe."""
    zs, _ = forward(Ws, bs, X)
    J = -np.sum(Y * log_softmax(zs[-1])) / X.shape[1]
    return complex(J) if np.iscomplexobj(J) else float(J)


def backprop(Ws, bs, X, Y, output_delta=None):
    """Gradients of ``cost``: (dWs, dbs). ``output_delta(zs, acts, Y, m)`` replaces delta^L (for planted bugs)."""
    m = X.shape[1]
    zs, acts = forward(Ws, bs, X)
    delta = (acts[-1] - Y) / m if output_delta is None else output_delta(zs, acts, Y, m)
    L = len(Ws)
    dWs, dbs = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        dWs[l] = delta @ acts[l].T
        dbs[l] = delta.sum(axis=1, keepdims=True)
        if l > 0:
            a = acts[l]
            delta = a * (1.0 - a) * (Ws[l].T @ delta)
    return dWs, dbs


# ---------------------------------------------------------------- optimizers: step(params, grads, state, hyper)


def _zeros(params):
    return [np.zeros(np.shape(p)) for p in params]


def sgd_step(params, grads, state, hyper):
    """Plain gradient descent: theta <- theta - eta g. Its state is unused (None)."""
    return [p - hyper["eta"] * g for p, g in zip(params, grads)], state


def momentum_step(params, grads, state, hyper):
    """Heavy ball: v <- beta v - eta g; theta <- theta + v. State {"v": [...]}."""
    vs = _zeros(params) if state is None else state["v"]
    vs = [hyper["beta"] * v - hyper["eta"] * g for v, g in zip(vs, grads)]
    return [p + v for p, v in zip(params, vs)], {"v": vs}


def rmsprop_step(params, grads, state, hyper):
    """s <- rho s + (1 - rho) g^2; theta <- theta - eta g / (sqrt(s) + eps). State {"s": [...]}."""
    ss = _zeros(params) if state is None else state["s"]
    rho, eta, eps = hyper["rho"], hyper["eta"], hyper["eps"]
    ss = [rho * s + (1.0 - rho) * g * g for s, g in zip(ss, grads)]
    return [p - eta * g / (np.sqrt(s) + eps) for p, g, s in zip(params, grads, ss)], {"s": ss}


def adam_step(params, grads, state, hyper, bias_correction=True):
    """Adam with bias correction. State {"m": [...], "v": [...], "t": steps taken so far}."""
    if state is None:
        state = {"m": _zeros(params), "v": _zeros(params), "t": 0}
    b1, b2, eta, eps = hyper["beta1"], hyper["beta2"], hyper["eta"], hyper["eps"]
    t = state["t"] + 1
    ms = [b1 * m + (1.0 - b1) * g for m, g in zip(state["m"], grads)]
    vs = [b2 * v + (1.0 - b2) * g * g for v, g in zip(state["v"], grads)]
    c1, c2 = (1.0 - b1 ** t, 1.0 - b2 ** t) if bias_correction else (1.0, 1.0)
    new = [p - eta * (m / c1) / (np.sqrt(v / c2) + eps) for p, m, v in zip(params, ms, vs)]
    return new, {"m": ms, "v": vs, "t": t}


OPTIMIZERS = {"sgd": sgd_step, "momentum": momentum_step, "rmsprop": rmsprop_step, "adam": adam_step}


# ---------------------------------------------------------------- a learning-rate schedule


def cosine_schedule(k, eta0, eta_min, K):
    """eta_min + (eta0 - eta_min) (1 + cos(pi k / K)) / 2 for 0 <= k <= K, and eta_min after step K."""
    if k >= K:
        return float(eta_min)
    return float(eta_min + 0.5 * (eta0 - eta_min) * (1.0 + np.cos(np.pi * k / K)))


# ---------------------------------------------------------------- the 2-D surface: a saddle and two minima

#: f(x, y) = (x^2 - 1)^2 + TILT x + y^2. The tilt makes the left minimum the deeper one.
TILT = 0.3


def surface(p):
    x, y = p[0], p[1]
    return (x * x - 1.0) ** 2 + TILT * x + y * y


def surface_grad(p):
    x, y = float(p[0]), float(p[1])
    return np.array([4.0 * x * (x * x - 1.0) + TILT, 2.0 * y])


def surface_hessian(p):
    x = float(p[0])
    return np.array([[12.0 * x * x - 4.0, 0.0], [0.0, 2.0]])


def critical_points():
    """(deep minimum, saddle, shallow minimum), each a (2,) array: the real roots of 4x^3 - 4x + TILT, and y = 0."""
    xs = np.sort(np.real(np.roots([4.0, 0.0, -4.0, TILT])))
    return tuple(np.array([x, 0.0]) for x in xs)


def basin(p):
    """"deep" left of the saddle, "shallow" right of it (the y direction never decides: it is a bowl in y)."""
    return "deep" if float(p[0]) < critical_points()[1][0] else "shallow"


def descend(step, p0, hyper, steps):
    """Run ``step`` on the surface from p0: the (steps + 1, 2) path, state carried from step to step."""
    p, state = np.array(p0, dtype=np.float64), None
    path = [p.copy()]
    for _ in range(steps):
        (p,), state = step([p], [surface_grad(p)], state, hyper)
        path.append(np.array(p, dtype=np.float64))
    return np.array(path)


def eta_max():
    """The largest step plain descent can take and still settle in the deep minimum: 2 / the largest curvature there."""
    return 2.0 / float(np.max(np.linalg.eigvalsh(surface_hessian(critical_points()[0]))))


# ---------------------------------------------------------------- training with any optimizer


def minibatches(m, batch_size, rng):
    order = rng.permutation(m)
    return [order[k:k + batch_size] for k in range(0, m, batch_size)]


def fit(X, Y, sizes, step, hyper, epochs, batch_size, seed, reset_state=False):
    """Mini-batch training of the softmax network with ``step``: (Ws, bs, losses), one training cost per epoch.

    ``rng = default_rng(seed)`` draws the initialization (``mlp.init_params``) and then every epoch's shuffle.
    ``reset_state=True`` plants the bug of notebook 07's spot-the-slip part (the state re-made at every step)."""
    rng = np.random.default_rng(seed)
    Ws, bs = init_params(sizes, rng)
    L, state, losses = len(Ws), None, []
    for _ in range(epochs):
        for idx in minibatches(X.shape[1], batch_size, rng):
            dWs, dbs = backprop(Ws, bs, X[:, idx], Y[:, idx])
            params, state = step(Ws + bs, dWs + dbs, None if reset_state else state, hyper)
            Ws, bs = list(params[:L]), list(params[L:])
        losses.append(cost(Ws, bs, X, Y))
    return Ws, bs, losses
