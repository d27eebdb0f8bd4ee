"""A plain-text summary of the bundled data's features and the lesson's linear test vector."""

from __future__ import annotations

import numpy as np

from .data import load_titanic
from .features import Features
from .metrics import mse
from .models import Linear

__all__ = ["LESSON_LINEAR_COEFFICIENTS", "summary"]

# The lesson workbook's Solver-trained linear coefficients (its `linear` sheet).
LESSON_LINEAR_COEFFICIENTS = np.array(
    [
        -0.05493400846598555, -0.01392560201864639, -0.5121166049392545, 0.048739184630876294,
        0.35260970444123674, 0.1828419836947523, 0.030719942102544747, 0.09681646208694518,
        -0.48306505275192946, 0.6944119448688815,
    ]
)


def summary() -> str:
    train, test = load_titanic()
    feats = Features()
    X, y = feats.fit_transform(train)
    X_test = feats.transform(test)
    loss = mse(Linear().predict(X, LESSON_LINEAR_COEFFICIENTS), y)
    lines = [
        f"training rows: {len(train)} read, {len(X)} kept (missing={feats.missing_})",
        f"test rows: {len(X_test)}, {int(feats.missing_mask(test).to_numpy().sum())} cells filled from training",
        f"features ({X.shape[1]}): {', '.join(feats.feature_names_)}",
        "divisors (training max): " + ", ".join(f"{k} {v:g}" for k, v in feats.divisors_.items()),
        "",
        f"{'feature':<10} {'mean':>8} {'min':>8} {'max':>8}",
    ]
    for name, column in zip(feats.feature_names_, X.T):
        lines.append(f"{name:<10} {column.mean():8.4f} {column.min():8.4f} {column.max():8.4f}")
    lines += ["", f"lesson linear coefficients: mean squared error {loss:.17g} over {len(X)} rows"]
    return "\n".join(lines)
