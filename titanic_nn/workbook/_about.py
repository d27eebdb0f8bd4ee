"""The first sheet's text: what each sheet is, how to re-run Solver, how to score new rows; every name from the schema."""

from __future__ import annotations

from typing import Any, Sequence

from .._submission import ROW_NUMBER_COLUMN
from ..features import SCORE_LABELS
from ..training import FittedModel
from ._layout import FILL_ROW, LOSS_SHEET, MAX_ROW, SUBMISSION_SHEET, TEST_SHEET
from ._sheets import ModelSheet
from ._solver_model import MAX_VARIABLES

__all__ = ["about_lines", "HEADINGS"]

HEADINGS = ("Sheets", "Re-running Solver", "Scoring new rows", "Training in the sheet")


def about_lines(
    sheets: Sequence[tuple[FittedModel, ModelSheet]],
    has_test: bool,
    submission: str | None,
    has_loss: bool,
    trainings: Sequence[Any] = (),
) -> list[str]:
    """The about sheet's lines; each model sheet is described by its model's own summary, the data by its schema."""
    schema = sheets[0][0].features.schema_
    target = ", ".join(schema.target_columns)
    id_column = schema.id_column or ROW_NUMBER_COLUMN
    target_rule = sheets[0][0].features.target_
    coded = target_rule.describe_coding()
    lines = [
        f"titanic-nn: fast.ai lesson 3's models of {target} as live spreadsheet formulas",
        "Every formula cell recomputes the number Python computed (checked by LibreOffice, Gnumeric and HyperFormula to 1e-9); "
        "the cached values are Python's, so viewers that do not calculate show them too.",
        "",
        HEADINGS[0],
    ]
    score = SCORE_LABELS[target_rule.metrics[0]]
    others = [SCORE_LABELS[key] for key in target_rule.metrics[1:]]
    also = f" ({', '.join(others)} right of it)" if others else ""
    for fitted, sheet in sheets:
        at = sheet.scores
        split = (
            f"the Valid column marks the {sheet.n_valid} rows held out for validation with 1; Train loss "
            f"{at['Train loss:']} (Solver's objective) and Train {score} {at[f'Train {score}:']}{also} average the other "
            f"rows, Valid loss {at['Valid loss:']} and Valid {score} {at[f'Valid {score}:']} the marked ones"
            if sheet.n_valid
            else f"every row trained the model (the Valid column holds no 1); Train loss {at['Train loss:']} "
            f"(Solver's objective) and Train {score} {at[f'Train {score}:']}{also} average all rows"
        )
        if sheet.objective_cell:
            split = split.replace(" (Solver's objective)", "") + (
                f"; the model trained with weight decay (the orange Weight decay cell), so Solver's objective is "
                f"{sheet.objective_cell.replace('$', '')}, the train loss plus the L2 penalty wd/2 * the sum of the "
                "squared weights (no bias)"
            )
        lines.append(
            f"{sheet.sheet.name}: {fitted.model.summary() or fitted.model.kind}. Raw columns A.. (the Max row {MAX_ROW} "
            f"and Fill row {FILL_ROW} above them hold the statistics learned from these rows), feature formulas, "
            f"model columns, loss per row{coded}; {split}; "
            f"parameters (the orange input cells) at {', '.join(r.replace('$', '') for r in sheet.variable_ranges())}."
        )
    if has_test:
        lines.append(
            f"{TEST_SHEET}: the test rows (cells that were blank are highlighted and refer to the Fill row of the "
            "first model sheet), the same feature formulas and every model's prediction columns."
        )
    if submission:
        lines.append(
            f"{SUBMISSION_SHEET}: {id_column} and {target} ={target_rule.excel_submission('pred', 'scale')} from the "
            f"{submission} model; "
            "save this sheet as CSV for the submission file."
        )
    if has_loss:
        lines.append(
            f"{LOSS_SHEET}: the training (and validation) loss per epoch of the models trained by gradient descent, "
            "charted."
        )
    for layout in trainings:
        lines.append(
            f"{layout.name}: gradient descent on sheet {layout.model_sheet} in formulas, {layout.epochs} epochs of "
            f"{layout.optimizer.name}{_descent_said(layout.descent)}: each epoch's parameters, loss, gradient (one "
            "array formula per parameter array) and the next epoch's parameters; its loss per epoch charted. When rows "
            "are held out, only those marked Valid 0 on the model sheet train, as in Python."
        )
    lines += [
        "",
        HEADINGS[1],
        "Open a model sheet and choose Data > Solver: the objective (the training rows' loss), the variable cells "
        "(the parameters), Min, GRG Nonlinear and 'Make Unconstrained Variables Non-Negative' unticked are already "
        "set. Click Solve and keep the solution; the rows marked Valid stay out of the fit, and their loss shows how "
        "the solution does on rows it never saw. `titanic-nn import` (or titanic_nn.read_workbook) reads the new "
        "parameters, and the Valid marks, back into Python.",
    ]
    if trainings:
        lines += [
            "",
            HEADINGS[3],
            "Each train_ sheet trains its model sheet by gradient descent in its own formulas, so any spreadsheet "
            "trains the net, Solver or not. Change its orange cells (gd_lr: the learning rate, and the optimiser's "
            "settings beside it; gd_start: the starting parameters, e.g. =RAND()-0.5 pasted as values) and it trains "
            "again. To use the result, copy gd_final, the last epoch's parameters laid out like the model sheet's "
            "block, and paste its values (Paste Special > Values) over the model sheet's parameters at the same "
            "place; Solver still works there. `titanic-nn import --from training` reads gd_final back into Python.",
        ]
    for fitted, sheet in sheets:
        members = fitted.model.k
        if members > 1:
            lines.append(
                f"{sheet.sheet.name} is an ensemble of {members} members, each trained from its own seed: each member "
                f"has its own parameter blocks (m1 Weights 1, m2 ...) and columns (m1 ..., m2 ...), and Preds is the "
                f"AVERAGE of the members' Preds columns, so the loss and accuracy score the averaged prediction. "
                "Solver changes every member's parameters at once; no training sheet is written for an ensemble."
            )
    for _, sheet in sheets:
        if sheet.n_variables > MAX_VARIABLES:
            lines.append(
                f"{sheet.sheet.name} has {sheet.n_variables} parameters, more than Solver's {MAX_VARIABLES} variable "
                "cells, so it carries no Solver model; its formulas still compute, and Python trains it."
            )
    lines += [
        "",
        HEADINGS[2],
        f"Paste the new rows' raw columns into the {TEST_SHEET} sheet under the last row, in the same columns, then "
        "copy the formula columns (features and model columns) down alongside them, and the submission rows too.",
    ]
    return lines


def _descent_said(descent: Any) -> str:
    """The schedule and the weight decay of a training sheet, where it has them, as the about sheet says them."""
    said = ""
    if descent.schedule.varies:
        moved = f" and its {descent.optimizer.MOMENTUM}" if descent.moves_momentum else ""
        said += (
            f" under the {descent.schedule.name} schedule (each epoch's Rate{moved} in its own column, computed from "
            "the orange settings, so changing the learning rate reshapes the whole schedule)"
        )
    if descent.wd:
        said += (
            f" with weight decay {descent.wd:g} (each epoch's update first scales the weights, not the biases, by "
            "1 - rate * weight decay)"
        )
    return said
