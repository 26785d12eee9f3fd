"""Data sets the notebooks use. Everything ships with the course or with an installed package: nothing downloads."""
from __future__ import annotations

import numpy as np

#: Notebook 01's four people: (weight in lb, height in in), label 1 for female and 0 for male.
PEOPLE = {
    "Alice": ((133, 65), 1),
    "Bob": ((160, 72), 0),
    "Charlie": ((152, 70), 0),
    "Diana": ((120, 60), 1),
}
#: Two people the network has not seen.
NEW_PEOPLE = {"Emily": (128, 63), "Frank": (155, 68)}
#: The shifts applied to every input: roughly the means of weight and height.
PEOPLE_SHIFT = np.array([135.0, 66.0])


def people():
    """The four people as (X, y, names): X is (4, 2) float64, shifted by PEOPLE_SHIFT; y is (4,) float64."""
    names = list(PEOPLE)
    X = np.array([PEOPLE[n][0] for n in names], dtype=np.float64) - PEOPLE_SHIFT
    y = np.array([PEOPLE[n][1] for n in names], dtype=np.float64)
    return X, y, names


def new_people():
    """The two unseen people as (X, names), shifted the same way."""
    names = list(NEW_PEOPLE)
    X = np.array([NEW_PEOPLE[n] for n in names], dtype=np.float64) - PEOPLE_SHIFT
    return X, names
