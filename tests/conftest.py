"""Shared fixtures: the bundled data and the lesson's default features."""

from __future__ import annotations

import pytest

import titanic_nn as tn


@pytest.fixture(scope="session")
def titanic():
    """(train, test) DataFrames from the bundled files."""
    return tn.load_titanic()


@pytest.fixture(scope="session")
def lesson_xy(titanic):
    """The lesson workbook's 712 training rows as (features, X, y)."""
    train, _ = titanic
    feats = tn.Features()
    X, y = feats.fit_transform(train)
    return feats, X, y
