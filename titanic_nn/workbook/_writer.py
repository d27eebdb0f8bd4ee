"""write_workbook: the fitted models as an .xlsx of live formulas, Solver models, test and submission sheets."""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import pandas as pd

from .. import excel
from .._atomic import atomic_path, write_failed
from ..errors import DataError, OutputPathError, TitanicNNError
from ..features import Features
from ..training import FittedModel
from . import _metadata as metadata
from . import _package as package
from ._about import HEADINGS, about_lines
from ._appearance import STYLES, fit_widths, set_up_page, style_computed_columns
from ._layout import ABOUT_SHEET, LOSS_SHEET, METADATA_SHEET, RESERVED_SHEETS, data_rows, model_name_problem
from ._sheet_xml import write_sheet
from ._sheets import build_sheets, written_frame
from ._solver_model import MAX_VARIABLES, define_solver_names
from ._training_sheets import SheetTraining, training_data, training_sheet

__all__ = ["write_workbook"]

# Fixed document dates: the same inputs give the same bytes.
CREATED = dt.datetime(2022, 1, 1)


def write_workbook(
    path: str | os.PathLike,
    models: Sequence[FittedModel],
    train: pd.DataFrame,
    test: pd.DataFrame | None = None,
    *,
    submission: str | None = None,
    max_rows: int | None = None,
    training: SheetTraining | int | None = None,
) -> Path:
    """Write `models` (sharing one fitted Features) with their training rows, and `test` when given.

    Each model gets a sheet in the lesson workbook's layout with its Solver model; `test` adds the test
    and submission sheets (`submission` names the model, default the first). `training` (a
    SheetTraining, or a number of epochs) adds a training sheet per model: gradient descent written in
    formulas. Rows beyond Excel's 1,048,576 or beyond `max_rows` are refused, never dropped. Written
    atomically; returns the path.
    """
    if isinstance(training, int) and not isinstance(training, bool):
        training = SheetTraining(epochs=training) if training > 0 else None
    fits = _checked_models(models)
    features = fits[0].features
    kept = features.training_rows(train, test)
    _check_rows("training", len(kept), max_rows)
    schema = features.schema_
    train_frame, train_filled = written_frame(features, kept, schema.target_columns)
    test_frame = test_filled = None
    id_column = None
    if test is not None:
        _check_rows("test", len(test), max_rows)
        id_column = schema.id_column if schema.id_column and schema.id_column in test.columns else None
        test_frame, test_filled = written_frame(features, test, [id_column] if id_column else [])
    chosen = _chosen(fits, submission) if test is not None else None

    model_sheets, others = build_sheets(
        fits, train_frame, train_filled, test_frame, test_filled, id_column=id_column, submission=chosen
    )
    pairs = list(zip(fits, model_sheets))
    trainings = [] if training is None else _training_sheets(pairs, train_frame, training)
    sheets = [m.sheet for m in model_sheets] + others + [t.sheet for t in trainings]
    _check_columns(sheets)
    _check_sheet_names(sheets)

    description = metadata.describe(
        fits, len(kept), None if test is None else len(test), None if chosen is None else chosen.name, id_column,
        filled={"train": train_filled, "test": test_filled},
        training=[(t.layout.model_sheet, t.layout.name, t.layout.descent) for t in trainings],
        epochs=None if training is None else training.epochs,
    )
    histories = [(fit.name, fit.training["history"]) for fit in fits if _has_history(fit)]
    with atomic_path(path) as temporary, _naming(path):
        # XlsxWriter's own temporaries (a file per sheet's rows, then one per part) go in the temporary's
        # private folder beside the target, never in $TMPDIR: an interrupt removes them with it
        options = {"constant_memory": True, "in_memory": False, "tmpdir": str(temporary.parent)}
        book = package.Workbook(temporary, options)
        book.set_properties({"created": CREATED, "title": "titanic-nn workbook"})
        book.set_calc_mode("auto")  # and XlsxWriter writes fullCalcOnLoad="1": Excel recomputes on open
        styles = {name: book.add_format(props) for name, props in STYLES.items()}
        lines = about_lines(pairs, test is not None, description["submission"], bool(histories), [t.layout for t in trainings])
        _write_lines(book.add_worksheet(ABOUT_SHEET), lines, styles)
        for fit, model_part in pairs:
            worksheet = book.add_worksheet(fit.name)
            _write_data_sheet(worksheet, model_part.sheet, styles)
            if model_part.n_variables <= MAX_VARIABLES:
                define_solver_names(book, fit.name, model_part.solver_objective, model_part.variable_ranges())
        for sheet in others:
            _write_data_sheet(book.add_worksheet(sheet.name), sheet, styles)
        for part in trainings:
            _write_training_sheet(book, part, styles)
        if histories:
            _write_loss_sheet(book, histories, styles)
        _write_metadata(book.add_worksheet(METADATA_SHEET), metadata.to_cells(description))
        _close(book, path)
    return Path(path)


@contextmanager
def _naming(path: str | os.PathLike) -> Iterator[None]:
    """An OSError met while the workbook is written (a disk that fills as a sheet's rows are buffered) names it."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, OutputPathError):
            raise
        raise write_failed(path, exc) from exc


def _close(book: Any, path: str | os.PathLike) -> None:
    """Assemble and zip the workbook; a disk that fills (or any failure to write) names the workbook's path."""
    from xlsxwriter.exceptions import FileCreateError

    try:
        book.close()
    except FileCreateError as exc:  # XlsxWriter's wrapper of the OSError it met
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else exc
        raise write_failed(path, cause) from exc
    except OSError as exc:
        raise write_failed(path, exc) from exc


# -- checks ----------------------------------------------------------------------------------------


def _checked_models(models: Sequence[FittedModel]) -> list[FittedModel]:
    fits = list(models) if not isinstance(models, FittedModel) else [models]
    if not fits:
        raise TitanicNNError("write_workbook needs at least one fitted model")
    for fit in fits:
        if not isinstance(fit, FittedModel):
            raise TitanicNNError(f"write_workbook takes FittedModel objects, got {type(fit).__name__}")
    names = [fit.name for fit in fits]
    for name in names:
        if model_name_problem(name) is not None:
            raise TitanicNNError(
                f"model name {name!r} cannot be a sheet name here: use up to 31 letters, digits or _, starting "
                f"with a letter, and none of {', '.join(RESERVED_SHEETS)}"
            )
    lowered = [n.lower() for n in names]
    if len(set(lowered)) != len(lowered):
        raise TitanicNNError(f"model names must differ (sheet names ignore case): {', '.join(names)}")
    first = fits[0].features
    if not isinstance(first, Features) or not hasattr(first, "feature_names_"):
        raise TitanicNNError("the models' features are not fitted; fit them on the training data first")
    for fit in fits[1:]:
        if fit.features is not first and fit.features.to_dict() != first.to_dict():
            raise TitanicNNError(
                f"models {fits[0].name} and {fit.name} were trained on different features; a workbook holds "
                "models sharing one fitted Features: train them all on the same Features"
            )
    return fits


def _check_rows(what: str, n_rows: int, max_rows: int | None) -> None:
    room = data_rows()
    if n_rows > room:
        raise DataError(
            f"{what} data has {n_rows:,} rows but a sheet holds {room:,} below its header rows, and the workbook "
            f"shows every row (none is dropped silently); give at most {room:,} rows"
        )
    if max_rows is not None and n_rows > max_rows:
        raise DataError(
            f"{what} data has {n_rows:,} rows, more than max_rows={max_rows:,}; raise max_rows or pass fewer rows"
        )


def _check_columns(sheets: Sequence[Any]) -> None:
    for sheet in sheets:
        widest = max([c.col for c in sheet.columns] + [c.col for c in sheet.cells])
        if widest >= excel.MAX_COLUMNS:
            raise TitanicNNError(
                f"sheet {sheet.name} needs {widest + 1:,} columns, more than Excel's {excel.MAX_COLUMNS:,}; "
                "use a narrower model"
            )


def _check_sheet_names(sheets: Sequence[Any]) -> None:
    lowered = [sheet.name.lower() for sheet in sheets]
    repeated = sorted({name for name in lowered if lowered.count(name) > 1})
    if repeated:
        raise TitanicNNError(f"two sheets would be named {', '.join(repeated)} (sheet names ignore case); rename a model")


def _chosen(fits: Sequence[FittedModel], name: str | None) -> FittedModel:
    if name is None:
        return fits[0]
    for fit in fits:
        if fit.name == name:
            return fit
    raise TitanicNNError(f"submission={name!r} names no model; the models are {', '.join(f.name for f in fits)}")


def _has_history(fit: FittedModel) -> bool:
    history = fit.training.get("history") if isinstance(fit.training, dict) else None
    return fit.training.get("method") == "gd" and isinstance(history, dict) and bool(history.get("train"))


# -- sheets written with XlsxWriter's own calls ----------------------------------------------------


def _write_data_sheet(worksheet: Any, sheet: Any, styles: dict[str, Any]) -> None:
    style_computed_columns(sheet)
    write_sheet(worksheet, sheet, styles)
    for col, width in sorted(fit_widths(sheet).items()):
        worksheet.set_column(col, col, round(width, 1))
    set_up_page(worksheet, sheet, sheet.frozen_columns)


ABOUT_WIDTH = 100  # characters: the about sheet's one column, its text wrapped in it


def _write_lines(worksheet: Any, lines: Sequence[str], styles: dict[str, Any]) -> None:
    worksheet.set_column(0, 0, ABOUT_WIDTH)
    for row, line in enumerate(lines):
        if line:
            heading = row == 0 or line in HEADINGS
            # the row as tall as its wrapped lines (engines keep a row's height as the file gives it)
            wrapped = max(1, math.ceil(len(line) * (1.1 if heading else 1.0) / (ABOUT_WIDTH * 1.1)))
            if wrapped > 1:
                worksheet.set_row(row, 15 * wrapped)
            worksheet.write_string(row, 0, line, styles["about_heading" if heading else "about"])
    worksheet.fit_to_pages(1, 0)
    worksheet.print_area(0, 0, len(lines) - 1, 0)
    worksheet.activate()


def _write_loss_sheet(book: Any, histories: Sequence[tuple[str, dict]], styles: dict[str, Any]) -> None:
    worksheet = book.add_worksheet(LOSS_SHEET)
    series = []
    for name, history in histories:
        for split in ("train", "valid"):
            values = history.get(split) or []
            if len(values):
                series.append((f"{name} {split}", [float(v) for v in values]))
    epochs = max(len(values) for _, values in series)
    worksheet.write_string(0, 0, "Epoch", styles["header"])
    for k, (label, _) in enumerate(series):
        worksheet.write_string(0, k + 1, label, styles["header"])
    for epoch in range(epochs):
        worksheet.write_number(epoch + 1, 0, epoch + 1)
        for k, (_, values) in enumerate(series):
            if epoch < len(values):
                worksheet.write_number(epoch + 1, k + 1, values[epoch], styles["total"])
    worksheet.set_column(0, 0, 8)
    for k, (label, _) in enumerate(series):
        worksheet.set_column(k + 1, k + 1, max(12, round(len(label) * 1.1 + 2, 1)))
    worksheet.freeze_panes(1, 1)
    chart = book.add_chart({"type": "line"})
    for k, (label, values) in enumerate(series):
        chart.add_series({
            "name": [LOSS_SHEET, 0, k + 1],
            "categories": [LOSS_SHEET, 1, 0, epochs, 0],
            "values": [LOSS_SHEET, 1, k + 1, len(values), k + 1],
        })
    chart.set_title({"name": "Training loss per epoch"})
    chart.set_x_axis({"name": "Epoch"})
    chart.set_y_axis({"name": "Loss"})
    worksheet.insert_chart(1, len(series) + 2, chart, {"x_scale": 1.5, "y_scale": 1.5})


def _training_sheets(pairs: Sequence[tuple[FittedModel, Any]], frame: pd.DataFrame, training: SheetTraining) -> list[Any]:
    """Each model's training sheet, reading the model sheet's input block, target column and Valid marks."""
    features = pairs[0][0].features
    X = features.transform(frame, training=True)
    y = features.target(frame)
    parts = []
    for fitted, model_part in ((f, m) for f, m in pairs if training.trains(f.model)):
        name = model_part.sheet.name
        rows = training_data(fitted, name, model_part.data, len(frame), model_part.valid_col)
        parts.append(training_sheet(fitted, name, model_part.blocks, rows, X, y, training))
    return parts


def _write_training_sheet(book: Any, part: Any, styles: dict[str, Any]) -> None:
    worksheet = book.add_worksheet(part.sheet.name)
    write_sheet(worksheet, part.sheet, styles)
    for col, width in sorted(fit_widths(part.sheet).items()):
        worksheet.set_column(col, col, round(width, 1))
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    layout = part.layout
    for name, reference in part.names.items():
        if book.define_name(f"{part.sheet.name}!{name}", "=" + excel.on_sheet(part.sheet.name, reference)) != 0:
            raise TitanicNNError(f"XlsxWriter refused the defined name {part.sheet.name}!{name}")
    chart = book.add_chart({"type": "line"})
    first, last = layout.table_row, layout.table_row + layout.epochs - 1
    chart.add_series({
        "name": "loss",
        "categories": [part.sheet.name, first, layout.loss_table, last, layout.loss_table],
        "values": [part.sheet.name, first, layout.loss_table + 1, last, layout.loss_table + 1],
    })
    chart.set_title({"name": f"Loss per epoch ({layout.optimizer.name}{_schedule_said(layout)})"})
    chart.set_x_axis({"name": "Epoch", "interval_unit": max(1, layout.epochs // 6), "interval_tick": max(1, layout.epochs // 6)})
    chart.set_y_axis({"name": "Loss"})
    chart.set_legend({"none": True})
    worksheet.insert_chart(1, layout.final[0].label_col + layout.region[1] + 1, chart, {"x_scale": 1.2, "y_scale": 1.0})


def _write_metadata(worksheet: Any, chunks: Sequence[str]) -> None:
    for row, chunk in enumerate(chunks):
        worksheet.write_string(row, 0, chunk)
    worksheet.hide()


def _schedule_said(layout: Any) -> str:
    return f", {layout.descent.schedule.name}" if layout.descent.schedule.varies else ""
