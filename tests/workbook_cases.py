"""Fitted models for the workbook tests: every model kind, on shared features, with fixed parameters (no training)."""

from __future__ import annotations

import pandas as pd

import titanic_nn as tn
from titanic_nn.lesson import LESSON_LINEAR_COEFFICIENTS

GD_HISTORY = {"method": "gd", "history": {"train": [0.25, 0.2, 0.17, 0.15], "valid": [0.26, 0.22, 0.2, 0.19]}}


def fitted(features: tn.Features, model: tn.Model, name: str, seed: int = 0, training: dict | None = None) -> tn.FittedModel:
    params = model.init(len(features.feature_names_), seed=seed)
    return tn.FittedModel(features, model, params, name, dict(training or {}))


def lesson_fits(train: pd.DataFrame, features: tn.Features | None = None) -> list[tn.FittedModel]:
    """linear (the lesson's coefficients), nnet (with a gradient-descent history) and mmult."""
    features = features or tn.Features()
    features.fit(train)
    linear = tn.FittedModel(features, tn.Linear(), LESSON_LINEAR_COEFFICIENTS.copy(), "linear")
    return [linear, fitted(features, tn.TwoReLU(), "nnet", 1, GD_HISTORY), fitted(features, tn.MatMulNet(), "mmult", 2)]


def other_fits(train: pd.DataFrame) -> list[tn.FittedModel]:
    """A deeper MatMulNet, a linear head, sigmoid outputs (one with log loss), a SUMPRODUCT net of 3 units."""
    features = tn.Features().fit(train)
    return [
        fitted(features, tn.MatMulNet(layers=[3, 2]), "deep", 3),
        fitted(features, tn.MatMulNet(hidden=3, head="linear"), "head", 4),
        fitted(features, tn.Linear(output="sigmoid"), "sig", 5),
        fitted(features, tn.TwoReLU(output="sigmoid", loss="logloss"), "siglog", 6),
        fitted(features, tn.MatMulNet(layers=[4, 3], head="linear", output="sigmoid"), "deepsig", 7),
    ]


def notebook_fits(train: pd.DataFrame) -> list[tn.FittedModel]:
    """The notebook's features (ln, every column over its max, all dummies, no constant; blanks filled)."""
    features = tn.Features("notebook").fit(train)
    return [fitted(features, tn.Linear(), "linear", 8), fitted(features, tn.MatMulNet(hidden=3), "mmult", 9)]
