"""Which model makes the submission and why, the training sheets a workbook gets, and an imported model's scores."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import TitanicNNError
from ._inputs import Job
from ._messages import metric, one_line, refit_line
from ._training import refit

if TYPE_CHECKING:
    import pandas as pd

    from ..training import FittedModel

__all__ = ["best", "choose_and_plan", "sheet_record"]


def choose_and_plan(args: argparse.Namespace, job: Job, fits: list["FittedModel"]) -> tuple[Any, str, Any, str | None]:
    """The submission model (refit on every row with --refit) and why, and the training sheets to write."""
    chosen, why = best(fits, args.model)
    if args.refit:
        chosen = refit(args, job, fits, chosen)
        print(refit_line(chosen))
    training, training_note = _sheet_training(args, fits, job.train, job.test)
    return chosen, why, training, training_note


def _sheet_training(
    args: argparse.Namespace, fits: Sequence["FittedModel"], train: "pd.DataFrame", test: "pd.DataFrame | None" = None
) -> tuple[Any, str | None]:
    """The training sheets to write, and a note when the default ones are left out.

    --sheet-epochs N is written as asked (or refused, in one line); without it, 300 epochs where the
    sheets stay quick enough to recalculate, and none, with a note saying why, where they would not.
    """
    from ..workbook import SheetTraining, check_training_sheets

    epochs = args.sheet_epochs if args.sheet_epochs is not None else SheetTraining().epochs
    if epochs == 0:
        return None, None
    gd = getattr(args, "method", None) == "gd"
    # --lr find: each sheet starts from its own model's found rate, which its training record holds
    lr = args.lr if gd and isinstance(args.lr, float) else None
    training = SheetTraining(
        epochs=epochs, optimizer=args.optimizer if gd else None, lr=lr,
        schedule=args.schedule if gd else None, wd=getattr(args, "wd", None),
    )
    reasons = sorted({reason for f in fits if (reason := training.left_out(f.model)) is not None})
    if not any(training.trains(f.model) for f in fits):
        return None, f"training sheets: left out; {'; '.join(reasons)}"
    try:
        check_training_sheets(fits, len(fits[0].features.training_rows(train, test)), training)
    except TitanicNNError as exc:
        if args.sheet_epochs is not None:
            raise
        return None, f"training sheets: left out ({one_line(exc)}); give --sheet-epochs N to write them"
    if reasons:
        names = ", ".join(f.name for f in fits if not training.trains(f.model))
        return training, f"training sheets: none for {names}; {'; '.join(reasons)}"
    return training, None


def best(fits: Sequence["FittedModel"], chosen: str | None) -> tuple["FittedModel", str]:
    """The model whose predictions are submitted, and why: --model, the best validation score of the target's first
    metric (the highest accuracy, the lowest RMSE; ties: the lower validation loss), or without validation rows the
    lowest training loss."""
    from ..features import SCORE_LABELS

    if chosen is not None:
        return next(f for f in fits if f.name == chosen), "--model"
    target = fits[0].features.target_
    key = target.metrics[0]
    # min keeps the first of equals, so ties go to the simpler model (the list runs linear, nnet, mmult).
    if any(math.isfinite(metric(f, f"valid_{key}")) for f in fits):
        sign = -1.0 if target.better(key, 1.0, 0.0) else 1.0

        def rank(fitted: "FittedModel") -> tuple[float, float]:
            score, loss = metric(fitted, f"valid_{key}"), metric(fitted, "valid_loss")
            return (sign * score if math.isfinite(score) else math.inf, loss if math.isfinite(loss) else math.inf)

        return min(fits, key=rank), f"best validation {SCORE_LABELS[key]}"
    return min(fits, key=lambda f: metric(f, "train_loss")), "lowest training loss: there are no validation rows"


def sheet_record(fitted: "FittedModel", train: "pd.DataFrame", book: Path) -> dict[str, Any]:
    """The training record of a model read from a sheet: its scores recomputed on the sheet's rows, as marked now."""
    from ..training import scores, valid_positions

    kept = len(train)
    valid = valid_positions(fitted.training, kept)
    X, y = fitted.features.transform(train, training=True), fitted.features.target(train)
    record = {
        "method": "import",
        "source": str(book),
        "trained_by": fitted.training.get("method"),
        **({"from": fitted.training["from"]} if "from" in fitted.training else {}),  # a training sheet's gd_final
        **scores(fitted.model, fitted.params, X, y, valid, fitted.features.target_),
        "split": dict(fitted.training.get("split") or {}, n_train=kept - len(valid), n_valid=len(valid)),
    }
    record["split"]["valid_rows"] = [int(i) for i in valid]
    return record
