"""Fitted models for the workbook tests: every model kind, on shared features, with fixed parameters (no training)."""

from __future__ import annotations

import numpy as np
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


def tanh_fits(train: pd.DataFrame) -> list[tn.FittedModel]:
    """MatMulNet with tanh units, one layer and two layers; and fastai's tabular kind (ReLU layers, a linear head)."""
    features = tn.Features().fit(train)
    return [
        fitted(features, tn.MatMulNet(hidden=3, activation="tanh"), "tanh", 10),
        fitted(features, tn.MatMulNet(layers=[3, 2], head="linear", activation="tanh"), "tanhdeep", 11),
        fitted(features, tn.Tabular(layers=[3, 2]), "tabular", 12),
    ]


def loans(rows: int, seed: int) -> pd.DataFrame:
    """A synthetic 0/1 table that is not the Titanic: default is likely for grade C and low incomes."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(["A", "B", "C"], size=rows)
    income = np.round(rng.lognormal(10, 0.6, size=rows))
    age = rng.integers(18, 70, size=rows).astype(float)
    age[rng.random(rows) < 0.1] = np.nan  # blanks, filled from the training mode
    score = (grade == "C") * 1.2 - np.log10(income + 1) + 4.2 + rng.normal(0, 0.3, size=rows)
    return pd.DataFrame({
        "LoanId": np.arange(1000 * seed, 1000 * seed + rows), "Grade": grade, "Income": income, "Age": age,
        "Default": (score > 0).astype(int),
    })


LOAN_SCHEMA = tn.Schema(
    target="Default", id_column="LoanId",
    continuous=(tn.Continuous("Age", scale="max"), tn.Continuous("Income", log="ln", scale="max")),
    categorical=(tn.Categorical("Grade"),),
)


def loan_case() -> tuple[list[tn.FittedModel], pd.DataFrame, pd.DataFrame]:
    """(fits, train, test) on the loans table with its own schema, blanks filled by mode."""
    train, test = loans(120, 1), loans(30, 2).drop(columns="Default")
    features = tn.Features(LOAN_SCHEMA, missing="mode").fit(train)
    return [fitted(features, tn.Linear(), "linear", 12), fitted(features, tn.TwoReLU(), "nnet", 13)], train, test
