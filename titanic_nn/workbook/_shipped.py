"""The shipped workbook: the lesson's three models trained by the Solver path on the bundled data, with test rows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from .._data import load_titanic
from ..features import Features
from ..nn import MODELS
from ..training import FittedModel
from ._training_sheets import SheetTraining
from ._writer import write_workbook

__all__ = ["SHIPPED_PATH", "default_models", "build_default_workbook"]

SHIPPED_PATH = Path("workbooks") / "titanic.xlsx"
# Every model sheet gets a training sheet: 300 epochs of Adam from the start the solver kept.
SHIPPED_TRAINING = SheetTraining(epochs=300)


def default_models() -> list[FittedModel]:
    """One model of each registered kind (the lesson's linear, nnet and mmult) on the lesson's features, each
    trained by the Solver path on all 712 kept rows."""
    from ..training import train_model

    train, _ = load_titanic()
    features = Features()
    # valid_frac=None: like the lesson's Solver, fit every kept row (the linear loss is then the lesson's 0.14423)
    return [
        train_model(train, model, features=features, method="solver", valid_frac=None, seed=0)
        for model in (cls() for cls in MODELS.values())
    ]


def build_default_workbook(
    path: str | os.PathLike = SHIPPED_PATH, fits: Sequence[FittedModel] | None = None
) -> Path:
    """Write the shipped workbook (model sheets, their training sheets, test and submission from the bundled
    test.csv) to `path`.

    `fits` defaults to `default_models()`; the shipped file's own models (`read_workbook`) rewrite it
    as it is, whatever the optimiser finds on this machine.
    """
    train, test = load_titanic()
    return write_workbook(path, default_models() if fits is None else fits, train, test, training=SHIPPED_TRAINING)
