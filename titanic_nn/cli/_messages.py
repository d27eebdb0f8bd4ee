"""What the command line says: its names, one-line messages, notes, the results table and the submission's line."""

from __future__ import annotations

import argparse
import math
import re
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import pandas as pd

    from ..training import FittedModel

__all__ = [
    "PROG", "DEFAULT_OUT", "WORKBOOK_NAME", "SUBMISSION_NAME", "LOSS_PLOT_NAME", "LR_FIND_PLOT_NAME", "SCHEMA_NAME", "one_line", "note",
    "results_table", "choices_table", "lr_find_table",
    "metric", "formatted", "refit_line", "submission_note", "plot_note", "written_columns",
]

PROG = "titanic-nn"


DEFAULT_OUT = "titanic-nn-out"


WORKBOOK_NAME = "titanic.xlsx"


SUBMISSION_NAME = "submission.csv"


LOSS_PLOT_NAME = "loss.png"


LR_FIND_PLOT_NAME = "lr_find.png"


SCHEMA_NAME = "schema.toml"


def one_line(message: object) -> str:
    """A message folded onto one line, as every error and warning is printed, numpy's reprs as plain numbers
    (np.float64(-1.0) as -1.0: a message shows values, never the type numpy held them in)."""
    return _NUMPY_REPR.sub(r"\1", " ".join(str(message).split())) or "unknown error"


_NUMPY_REPR = re.compile(r"\bnp\.(?:float|int|uint|bool|str|complex)_?\d*\(([^()]*)\)")


def note(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message)


def results_table(fits: Sequence["FittedModel"]) -> str:
    """The results: model, method, train loss, valid loss, the target's validation scores (accuracy; or RMSE, MAE and
    R²), seconds; one line per model."""
    from ..features import SCORE_LABELS

    target = getattr(getattr(fits[0], "features", None), "target_", None) if fits else None
    metrics = target.metrics if target is not None else ("accuracy",)
    header = ("model", "method", "train loss", "valid loss", *(f"valid {SCORE_LABELS[key]}" for key in metrics), "seconds")
    rows = [header]
    for fitted in fits:
        rows.append(
            (
                fitted.name,
                str(fitted.training.get("method", "")),
                formatted(metric(fitted, "train_loss"), "{:.5f}"),
                formatted(metric(fitted, "valid_loss"), "{:.5f}"),
                *(formatted(metric(fitted, f"valid_{key}"), "{:.4f}" if key == "accuracy" else "{:.5g}") for key in metrics),
                formatted(metric(fitted, "seconds"), "{:.2f}"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])] + [c.rjust(w) for c, w in zip(row[2:], widths[2:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def choices_table(choices: Sequence[Any]) -> str:
    """How each column of the training CSV was typed: column, kind, why; one line per column."""
    from .._plain import cut

    def name(column: str) -> str:  # a name holding a line break or a control character is shown quoted
        return cut(column if column.isprintable() else repr(column), 40)

    rows = [("column", "kind", "why")] + [(name(c.column), c.kind, c.why) for c in choices]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return "\n".join(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2]}".rstrip() for row in rows)


def metric(fitted: "FittedModel", key: str) -> float:
    value = fitted.training.get(key)
    return float("nan") if value is None else float(value)


def formatted(value: float, style: str) -> str:
    return style.format(value) if math.isfinite(value) else "-"


def refit_line(refit: "FittedModel") -> str:
    return (
        f"refit: {refit.name} trained again on all {refit.training['split']['n_train']} rows: train loss "
        f"{formatted(metric(refit, 'train_loss'), '{:.5f}')} (no validation rows; its sheet and JSON hold these "
        "parameters)"
    )


def submission_note(chosen: "FittedModel", why: str, submission: "pd.DataFrame", refit: bool = False) -> str:
    how = f"{why}, then refit on all rows" if refit else why
    predicted = chosen.features.target_.describe_submission(written_columns(submission))
    return (
        f"submission: {chosen.name} ({how}), {len(submission)} rows, {predicted}"
    )


def written_columns(submission: "pd.DataFrame") -> Any:
    """What a submission predicts: its target's column, or several labels' columns (all but the id)."""
    return submission.iloc[:, 1] if submission.shape[1] == 2 else submission.iloc[:, 1:]


def lr_find_table(results: dict[str, Any], same: dict[str, str]) -> str:
    """The learning-rate finder's results: model, suggested lr (fastai's valley rule), steps run, the least smoothed
    loss, and why it ended; one line per model (a model whose program is another's says so)."""
    ended = {"num_it": "after its last step", "diverged": "loss above 4x its least", "not finite": "loss not finite"}
    rows = [("model", "suggested lr", "steps", "least loss", "ended")]
    for name, found in results.items():
        suggestion = "none" if found.suggestion is None else f"{found.suggestion:.3g}"
        if name in same:
            rows.append((name, suggestion, "", "", f"the same program as {same[name]}, so its run"))
            continue
        least = min((v for v in found.losses if math.isfinite(v)), default=math.nan)
        rows.append((name, suggestion, str(found.steps), formatted(least, "{:.5f}"),
                     ended[found.stopped]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:4], widths[1:4])), row[4]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def plot_note(args: argparse.Namespace, histories: dict[str, Any], available: bool) -> str | None:
    """Why loss.png is not drawn, or None when it is."""
    if args.method == "gd" and not histories:
        return f"{LOSS_PLOT_NAME}: skipped; an ensemble's members each have their own curve, and none is the ensemble's"
    if args.method != "gd":
        return f"{LOSS_PLOT_NAME}: skipped; the solver records no loss per epoch (use --method gd for the curves)"
    if not available:
        return f"{LOSS_PLOT_NAME}: skipped; no plotting library is installed (pip install matplotlib to get it)"
    return None
