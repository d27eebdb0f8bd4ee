"""The first sheet's text: what each sheet is, how to re-run Solver, how to score new passengers."""

from __future__ import annotations

from typing import Sequence

from .layout import LOSS_SHEET, SUBMISSION_SHEET, TEST_SHEET
from .sheets import ModelSheet
from .solver_names import MAX_VARIABLES

__all__ = ["about_lines"]

KINDS = {
    "linear": "a linear model: one SUMPRODUCT per row",
    "nnet": "a net of ReLUs: one SUMPRODUCT per unit and row, IF(x<0,0,x), then their sum",
    "mmult": "the same kind of net computed by MMULT array formulas over the whole block",
}


def about_lines(
    sheets: Sequence[tuple[str, ModelSheet]], has_test: bool, submission: str | None, has_loss: bool
) -> list[str]:
    lines = [
        "titanic-nn: fast.ai lesson 3's Titanic models as live spreadsheet formulas",
        "Every formula cell recomputes the number Python computed (checked by LibreOffice to 1e-9); "
        "the cached values are Python's, so viewers that do not calculate show them too.",
        "",
        "Sheets",
    ]
    for kind, sheet in sheets:
        lines.append(
            f"{sheet.sheet.name}: {KINDS.get(kind, kind)}. Raw columns A.., feature formulas, model columns, "
            f"loss per row; total loss in {sheet.loss_cell.replace('$', '')}, accuracy below it; "
            f"parameters (the orange input cells) at {', '.join(r.replace('$', '') for r in sheet.variable_ranges())}."
        )
    if has_test:
        lines.append(
            f"{TEST_SHEET}: the test rows (cells that were blank are highlighted and hold the training value noted "
            "in row 1), the same feature formulas and every model's prediction columns."
        )
    if submission:
        lines.append(
            f"{SUBMISSION_SHEET}: PassengerId and Survived =IF(pred>0.5,1,0) from the {submission} model; "
            "save this sheet as CSV for Kaggle."
        )
    if has_loss:
        lines.append(f"{LOSS_SHEET}: the training loss per epoch of the models trained by gradient descent, charted.")
    lines += [
        "",
        "Re-running Solver",
        "Open a model sheet and choose Data > Solver: the objective (the total loss), the variable cells (the "
        "parameters), Min, GRG Nonlinear and 'Make Unconstrained Variables Non-Negative' unticked are already set. "
        "Click Solve and keep the solution; titanic_nn.read_workbook reads the new parameters back into Python.",
    ]
    for kind, sheet in sheets:
        if sheet.n_variables > MAX_VARIABLES:
            lines.append(
                f"{sheet.sheet.name} has {sheet.n_variables} parameters, more than Solver's {MAX_VARIABLES} variable "
                "cells, so it carries no Solver model; its formulas still compute, and Python trains it."
            )
    lines += [
        "",
        "Scoring new passengers",
        f"Paste the new rows' raw columns into the {TEST_SHEET} sheet under the last row, in the same columns, then "
        "copy the formula columns (features and model columns) down alongside them, and the submission rows too.",
    ]
    return lines
