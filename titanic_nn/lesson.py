"""Numbers from the lesson workbook (fast.ai course22, xl/titanic.xlsx) that the package is checked against."""

from __future__ import annotations

import numpy as np

__all__ = ["LESSON_LINEAR_COEFFICIENTS"]

# The `linear` sheet's Solver-trained coefficients, in the order of the default features; over the
# 712 rows they give Excel's cached mean squared error 0.14422714930851466, the least-squares optimum.
LESSON_LINEAR_COEFFICIENTS = np.array(
    [
        -0.05493400846598555, -0.01392560201864639, -0.5121166049392545, 0.048739184630876294,
        0.35260970444123674, 0.1828419836947523, 0.030719942102544747, 0.09681646208694518,
        -0.48306505275192946, 0.6944119448688815,
    ]
)
