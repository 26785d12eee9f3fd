"""Notebook 06's parts are graded on their own: sgd_epoch is given the reference gradient and train the reference epoch
(the last argument of the call), so a wrong backprop or sgd_epoch costs nothing later, and a part that ignores what it
is given is told so."""
import numpy as np
import pytest

from autograder.checks import nb06
from autograder.reference import mlp


def bad_backprop(Ws, bs, X, Y):
    """The demo class's ben: the sign of dC/da flipped."""
    dWs, dbs = mlp.backprop(Ws, bs, X, Y)
    return [-d for d in dWs], [-d for d in dbs]


def student_sgd_epoch(Ws, bs, X, Y, eta, batches, grad=None):
    grad = bad_backprop if grad is None else grad
    Ws, bs = list(Ws), list(bs)
    for idx in batches:
        dWs, dbs = grad(Ws, bs, X[:, idx], Y[:, idx])
        Ws = [W - eta * d for W, d in zip(Ws, dWs)]
        bs = [b - eta * d for b, d in zip(bs, dbs)]
    return Ws, bs


def student_train(X, Y, sizes, eta=1.0, epochs=10, batch_size=10, seed=0, epoch_fn=None):
    epoch_fn = student_sgd_epoch if epoch_fn is None else epoch_fn
    rng = np.random.default_rng(seed)
    Ws, bs = mlp.init_params(sizes, rng)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(X.shape[1])
        Ws, bs = epoch_fn(Ws, bs, X, Y, eta, [order[k:k + batch_size] for k in range(0, len(order), batch_size)])
        losses.append(mlp.cost(Ws, bs, X, Y))
    return Ws, bs, losses


def test_a_wrong_backprop_costs_nothing_in_sgd_epoch_and_train():
    nb06.check_sgd_epoch(student_sgd_epoch)
    nb06.check_train(student_train)


def test_a_part_that_ignores_what_it_is_given_is_told_so():
    with pytest.raises(AssertionError, match="^sgd_epoch never called the `grad` it was given"):
        nb06.check_sgd_epoch(lambda *a: student_sgd_epoch(*a[:6], grad=bad_backprop))
    with pytest.raises(AssertionError, match="^train never called the `epoch_fn` it was given"):
        nb06.check_train(lambda *a: student_train(*a[:7], epoch_fn=student_sgd_epoch))


def test_the_diagnoses_of_sgd_epoch_and_train_remain():
    def ascent(Ws, bs, X, Y, eta, batches, grad):
        return student_sgd_epoch(Ws, bs, X, Y, -eta, batches, grad)
    with pytest.raises(AssertionError, match="against the reference run"):
        nb06.check_sgd_epoch(ascent)

    def uphill(*a):  # steps with the given epoch, the wrong way
        return student_train(*a[:7], epoch_fn=lambda W, b, X, Y, e, bt: a[7](W, b, X, Y, -e, bt))
    with pytest.raises(AssertionError, match="held-out digits"):
        nb06.check_train(uphill)
