"""The shipped workbook: the lesson's three models trained by the Solver path on the bundled data, with test rows."""

from __future__ import annotations

import os
from pathlib import Path

from .data import load_titanic
from .features import Features
from .fitted import FittedModel
from .models import Linear, MatMulNet, TwoReLU
from .workbook import write_workbook

__all__ = ["SHIPPED_PATH", "default_models", "build_default_workbook"]

SHIPPED_PATH = Path("workbooks") / "titanic.xlsx"


def default_models() -> list[FittedModel]:
    """linear, nnet and mmult on the lesson's features, each trained by the Solver path on all 712 kept rows."""
    from .training import train_model

    train, _ = load_titanic()
    features = Features()
    # valid_frac=None: like the lesson's Solver, fit every kept row (the linear loss is then the lesson's 0.14423)
    return [
        train_model(train, model, features=features, method="solver", valid_frac=None, seed=0)
        for model in (Linear(), TwoReLU(), MatMulNet())
    ]


def build_default_workbook(path: str | os.PathLike = SHIPPED_PATH) -> Path:
    """Write the shipped workbook (training sheets, test and submission from the bundled test.csv) to `path`."""
    train, test = load_titanic()
    return write_workbook(path, default_models(), train, test)
