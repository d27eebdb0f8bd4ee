"""read_workbook: the models a workbook holds, with the parameters found in its sheets (e.g. after Excel's Solver)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import excel
from .._plain import cut, shown
from ..errors import DataError, InvalidModelError, TitanicNNError
from ..features import Features
from ..training import Descent, FittedModel
from . import _metadata as metadata
from ._layout import FIRST_ROW, METADATA_SHEET, TEST_SHEET, ParamBlock, data_columns, model_name_problem
from ._sheets import VALID_OFFSET, model_layout
from ._training_sheets import TrainingLayout, training_layout
from ._untrusted import READ_ERRORS, open_workbook

__all__ = [
    "read_workbook", "WorkbookContents", "read_contents", "read_rows", "training_layouts", "read_settings", "read_blocks",
    "read_epoch", "formula_cells",
]


@dataclass
class WorkbookContents:
    """What a workbook holds: its description, the models as found, and the raw rows of its sheets.

    The rows are as they were read from the CSV: a cell the workbook filled (a reference to its fill
    value) is blank again, so the features fill it as they filled it when the workbook was written.
    """

    path: Path
    description: dict[str, Any]
    fits: list[FittedModel]
    train: pd.DataFrame
    test: pd.DataFrame | None

    @property
    def submission(self) -> FittedModel | None:
        name = self.description.get("submission")
        return next((f for f in self.fits if f.name == name), None)


SOURCES = ("sheets", "training")


def read_workbook(path: str | os.PathLike, *, source: str = "sheets") -> list[FittedModel]:
    """The workbook's models: features and settings as written, parameters as the sheets hold them now.

    source "sheets" reads each model sheet's parameter cells (e.g. after Excel's Solver); "training"
    reads each training sheet's gd_final, the last epoch of its gradient descent in formulas (the
    workbook's computed values: a spreadsheet must have saved it after any change). Layout changes
    (inserted rows or columns) move the parameters and are not followed.
    """
    return read_contents(path, source=source).fits


def read_rows(book: Any, name: str, last_row: int | None = None, *, source: Any = None) -> list[tuple[Any, ...]]:
    """A sheet's values, row by row from row 1 (openpyxl read-only), down to `last_row`.

    A cell openpyxl cannot read (a number cell holding text such as NaN) is a DataError naming the sheet.
    """
    try:
        return list(book[name].iter_rows(min_row=1, max_row=last_row, values_only=True))
    except READ_ERRORS as exc:
        text = " ".join(str(exc).split())
        unreadable = _UNREADABLE_NUMBER.search(text)
        problem = f"a number cell holds {unreadable.group(1)}" if unreadable else text or type(exc).__name__
        where = f"{source}: " if source is not None else ""
        raise DataError(f"{where}sheet {name} cannot be read ({problem}); write the workbook again") from exc


# openpyxl's message for a number cell (<v>) whose text is not a number
_UNREADABLE_NUMBER = re.compile(r"(?:could not convert string to float|invalid literal for int\(\) with base 10): (.+)$")


def _cell(rows: list[tuple[Any, ...]], row: int, col: int) -> Any:
    line = rows[row - 1] if row - 1 < len(rows) else ()
    return line[col] if col < len(line) else None


# The hidden sheet's JSON is read up to this many characters: titanic-nn's is a few MB at most.
MAX_METADATA_CHARS = 64 << 20


def read_contents(path: str | os.PathLike, *, source: str = "sheets") -> WorkbookContents:
    """What the workbook holds: its description, the models with the parameters its sheets hold now, its rows.

    The file is opened by `open_workbook` (bounded, no DTD, no macros) and everything read from it is
    checked before use: the hidden sheet's layout (`check_description`), its features and each model's
    settings and training record by the validator model files share (`training/_validate.py`), every
    model name as a sheet name that exists, every parameter cell a finite number, every raw cell of
    the kind its column needs; the Valid marks are read as the sheet holds them now.
    source "training" takes the parameters from the training sheets' gd_final (see read_workbook).
    Each problem is a DataError naming the file and the sheet or cell.
    """
    if source not in SOURCES:
        raise DataError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such workbook; check the path")
    try:
        return _read_contents(path, source)
    except DataError as exc:
        # the cell an error names may hold a formula a program saved without calculating (openpyxl, a script): its
        # missing value is the cause, whatever the check that met it says
        formula = _uncomputed_formula(path, str(exc))
        if formula is None:
            raise
        raise DataError(
            f"{path}: cell {formula[0]} holds the formula {cut(formula[1])} with no value saved for it (the program "
            "that saved the workbook did not calculate it); open and save it in a spreadsheet, then read it again"
        ) from exc


_NAMED_CELL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)!\$?([A-Z]{1,3})\$?([0-9]+)\b")


def _uncomputed_formula(path: Path, message: str) -> tuple[str, str] | None:
    """The cell `message` names ("linear!C13", its formula) when it holds a formula but no cached value."""
    from ..excel import column_index, column_letter

    named = _NAMED_CELL.search(message)
    if named is None:
        return None
    sheet, col, row = named.group(1), column_index(named.group(2)), int(named.group(3))
    try:
        cells = formula_cells(path).get(sheet)
        if cells is None:
            return None
        formula = _cell(cells, row, col)
        if not (isinstance(formula, str) and formula.startswith("=")):
            return None
        with open_workbook(path) as book:
            if _cell(read_rows(book, sheet, row, source=path), row, col) is not None:
                return None
    except DataError:
        return None
    return f"{sheet}!{column_letter(col)}{row}", formula


def _read_contents(path: Path, source: str) -> WorkbookContents:
    from ..training import check_config, check_features, check_record

    fix = "write the workbook again with titanic-nn"
    with open_workbook(path) as book:
        if METADATA_SHEET not in book.sheetnames:
            raise DataError(
                f"{path}: has no {METADATA_SHEET} sheet, so titanic-nn did not write it; give a workbook written by "
                "`titanic-nn fit` or `titanic-nn workbook`"
            )
        description = metadata.from_cells(_metadata_cells(book, path), str(path))
        try:
            features = check_features(description["features"], "features")
            checked = [
                (entry, check_config(entry["config"], f"models[{i}].config"),
                 check_record(entry.get("training"), f"models[{i}].training"))
                for i, entry in enumerate(description["models"])
            ]
        except InvalidModelError as exc:
            raise DataError(f"{path}: the hidden {METADATA_SHEET} sheet's {exc}; {fix}") from exc
        n_train = description["train_rows"]
        fits = []
        train = None
        seen: set[str] = set()
        read_as_values: list[tuple[Any, ...]] = []  # the cells read as values: none may be a formula
        for entry, model, training in checked:
            name = _sheet_name(entry["name"], book, path, seen)
            try:
                data, blocks, loss_col = model_layout(features, model, n_train)
            except DataError as exc:  # a model too wide for a sheet: no workbook can hold it
                raise DataError(f"{path}: the hidden {METADATA_SHEET} sheet's model {name}: {exc}; {fix}") from exc
            # the parameter blocks may sit below the last data row (a sheet of few rows)
            last_row = max([FIRST_ROW + n_train - 1] + [block.bottom for block in blocks])
            rows = read_rows(book, name, last_row, source=path)
            # the blocks in the order the model's arrays list them (place_params sorts them so)
            arrays = read_blocks(
                blocks, lambda r, c: _cell(rows, r, c), name, prefix=f"{path}: parameter cell ", fix=PARAMETER_FIX
            )
            params = model.from_arrays(arrays)
            read_as_values += [
                (name, r, c, "parameter cell")
                for block in blocks for r in range(block.top, block.bottom + 1) for c in range(block.left, block.right + 1)
            ]
            read_as_values += [(name, FIRST_ROW + i, loss_col + VALID_OFFSET, "Valid cell") for i in range(n_train)]
            marked = _valid_marks(rows, loss_col + VALID_OFFSET, n_train, path, name)
            training = _with_marks(dict(training or {}), marked, n_train)
            fits.append(FittedModel(features, model, params, name, training))
            if train is None:
                train = _rows_frame(rows, data.raw, n_train)
                train_sheet, train_columns = name, data.raw
        test = None
        if description.get("test_rows"):
            if TEST_SHEET not in book.sheetnames:
                raise DataError(f"{path}: the sheet {TEST_SHEET} is missing; restore it or {fix}")
            id_column = description.get("id_column")
            test_data = data_columns(features, [id_column] if id_column else [])
            n_test = description["test_rows"]
            test = _rows_frame(read_rows(book, TEST_SHEET, FIRST_ROW + n_test - 1, source=path), test_data.raw, n_test)
        if source == "training":
            fits = _from_training(book, description, fits, n_train, path)
            read_as_values = []  # the model sheets' parameters are not read
    counts = {"train": n_train} | ({"test": len(test)} if test is not None else {})
    masks = metadata.filled_masks(description, features.schema_.input_columns, counts)
    read_as_values += _raw_cells(train_sheet, train_columns, train, masks["train"])
    if test is not None:
        read_as_values += _raw_cells(TEST_SHEET, test_data.raw, test, masks["test"])
    _check_no_formulas(path, read_as_values)
    train = _blanked(train, masks["train"])
    _check_cells(train, train_columns, features, path, train_sheet, target=True)
    if test is not None:
        test = _blanked(test, masks["test"])
        _check_cells(test, test_data.raw, features, path, TEST_SHEET, target=False)
    return WorkbookContents(path, description, fits, train, test)


def _raw_cells(sheet: str, raw: dict[str, int], frame: pd.DataFrame, filled: pd.DataFrame) -> list[tuple[Any, ...]]:
    """The data cells of `sheet` (its raw columns, the target and id among them) as `_check_no_formulas` takes them,
    each with the formula titanic-nn itself writes there: a text like "_x0041_" goes in as a formula of its pieces. A
    filled cell holds its fill's formula: not a value read back, so not here."""
    from .. import excel

    cells = []
    for name, col in raw.items():
        skipped = filled[name].to_numpy() if name in filled.columns else np.zeros(len(frame), dtype=bool)
        for i, value in enumerate(frame[name].tolist()):
            if skipped[i]:
                continue
            own = "=" + excel.literal(value) if isinstance(value, str) and excel.escape_like(value) else None
            cells.append((sheet, FIRST_ROW + i, col, f"data cell (column {name})", own))
    return cells


def _check_no_formulas(path: Path, cells: Sequence[tuple[Any, ...]]) -> None:
    """Each cell read as a value holds one, not a formula (but the one titanic-nn writes there, where a cell names it
    as its fifth item): a formula's cached value is whatever the spreadsheet last saved, not what the formula now
    says. A DataError names the first such cell."""
    from ..excel import column_letter

    if not cells:
        return
    found = formula_cells(path)  # formulas as "=...", text as "'..." (a text may start with "=")
    for sheet, row, col, what, *own in cells:
        text = _cell(found.get(sheet, []), row, col)
        if isinstance(text, str) and text.startswith("=") and text != (own[0] if own else None):
            kind = "a number" if what in ("parameter cell", "Valid cell") else "a value"
            raise DataError(
                f"{path}: {what} {sheet}!{column_letter(col)}{row} holds the formula {cut(str(text))}, not {kind} "
                f"(its cached value is what a spreadsheet last saved); put the {kind[2:]} itself there"
            )


def _from_training(book: Any, description: dict[str, Any], fits: list[FittedModel], n_train: int, path: Path) -> list[FittedModel]:
    """The models with the parameters of their training sheets' gd_final."""
    found = {fitted.name: layout for fitted, layout in training_layouts(description, fits, n_train)}
    missing = [fitted.name for fitted in fits if fitted.name not in found]
    if missing:
        raise DataError(f"{path}: has no training sheet for {', '.join(missing)}; write it with --sheet-epochs, or read the model sheets")
    out = []
    for fitted in fits:
        layout = found[fitted.name]
        if layout.name not in book.sheetnames:
            raise DataError(f"{path}: the sheet {layout.name} is missing; restore it or write the workbook again")
        rows = read_rows(book, layout.name, max(b.bottom for b in layout.final), source=path)
        try:
            arrays = read_blocks(layout.final, lambda r, c: _cell(rows, r, c), layout.name)
        except TitanicNNError as exc:
            raise DataError(f"{path}: {exc}") from exc
        training = dict(fitted.training) | {"from": f"{layout.name} (gd_final)"}
        out.append(FittedModel(fitted.features, fitted.model, fitted.model.from_arrays(arrays), fitted.name, training))
    return out


def _metadata_cells(book: Any, path: Path) -> list[Any]:
    """The hidden sheet's first column, read up to MAX_METADATA_CHARS characters."""
    cells, size = [], 0
    for row in book[METADATA_SHEET].iter_rows(min_col=1, max_col=1, values_only=True):
        value = row[0] if row else None
        if value is None:
            continue
        cells.append(value)
        size += len(str(value))
        if size > MAX_METADATA_CHARS:
            raise DataError(
                f"{path}: the hidden {METADATA_SHEET} sheet holds more than {MAX_METADATA_CHARS:,} characters, far more "
                "than titanic-nn writes; write the workbook again with titanic-nn"
            )
    return cells


def _sheet_name(name: Any, book: Any, path: Path, seen: set[str]) -> str:
    """A model's name from the hidden sheet, proven to be a plain sheet name of a sheet that exists, once."""
    problem = model_name_problem(name)
    if problem is not None:
        raise DataError(
            f"{path}: the hidden {METADATA_SHEET} sheet names a model {shown(name)}, which {problem}; titanic-nn "
            "names models so: write the workbook again with titanic-nn"
        )
    if name not in book.sheetnames:
        raise DataError(f"{path}: the sheet {name} is missing; restore it or write the workbook again")
    if name.lower() in seen:
        raise DataError(f"{path}: the hidden {METADATA_SHEET} sheet lists the model {name} twice; write the workbook again")
    seen.add(name.lower())
    return name


def _check_cells(
    frame: pd.DataFrame, columns: dict[str, int], features: Features, path: Path, sheet: str, *, target: bool
) -> None:
    """Every raw cell of the kind its column needs: a finite number (or blank) where the features compute with it,
    text or a finite number for a categorical column, 0 or 1 for the target; a DataError names the first cell."""
    from ..excel import column_letter
    from ..training import finite_problem

    schema = features.schema_

    def refuse(column: str, position: int, problem: str, fix: str) -> DataError:
        where = f"{sheet}!{column_letter(columns[column])}{FIRST_ROW + position}"
        return DataError(f"{path}: cell {where} (column {column}) {problem}; {fix}")

    kinds = schema.column_kinds()  # a derived column is computed, never read back: only the raw columns here
    for column in (name for name, kind in kinds.items() if kind == "number"):
        for position, value in enumerate(frame[column].tolist()):
            problem = None if value is None else finite_problem(value)
            if problem:
                raise refuse(column, position, problem, "put a number there or leave it blank")
    for column in (name for name, kind in kinds.items() if kind != "number"):
        for position, value in enumerate(frame[column].tolist()):
            blank = value is None or (kinds[column] == "text" and isinstance(value, float) and value != value)
            if not blank and not isinstance(value, str):
                problem = finite_problem(value)
                if problem:
                    what = "not a level" if kinds[column] == "level" else "not a text"
                    raise refuse(column, position, problem.replace("not a number", what), "put a level there")
    for name in schema.target_columns if target else []:  # the rule the CSV met, the target's own (each label's)
        for position, value in enumerate(frame[name].tolist()):
            if isinstance(value, bool):  # TRUE is 1 to some engines and not to others: no target to code
                raise refuse(name, position, f"holds {str(value).upper()}, a boolean", "put the value back")
        column = column_letter(columns[name])
        features.target_.code(
            frame[name], source=f"{path}: sheet {sheet}",
            locate=lambda i, column=column, name=name: f"cell {sheet}!{column}{FIRST_ROW + i} (column {name})",
            blank_fix="put the value back", value_fix="put 0 or 1 there",
        )


def _blanked(frame: pd.DataFrame, filled: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its filled cells blank, as the CSV had them."""
    frame = frame.copy()
    for column in filled.columns:
        if filled[column].any():
            frame[column] = frame[column].astype(object).where(~filled[column].to_numpy(), None)
    return frame


# What a cell read as a parameter must be, and the fix each reader names.
PARAMETER_FIX = "put a number there (parameters must stay where the workbook wrote them)"
TRAINING_FIX = (
    "the training sheet needs its cells where they were written (and a spreadsheet's computed values: open and save "
    "it in one first)"
)


def _cell_number(value: Any, where: str, fix: str) -> float:
    """A cell that must hold a finite number (a parameter, a training sheet's step), as a float; a DataError names it."""
    from ..training import finite_problem

    problem = finite_problem(value)
    if problem:
        raise DataError(f"{where} {problem}; {fix}")
    return float(value)


def _valid_marks(rows: list[tuple[Any, ...]], col: int, n_rows: int, path: Path, sheet: str) -> list[int]:
    """The positions of the rows the sheet's Valid column marks 1 (a person may have moved the marks)."""
    from ..excel import column_letter

    marked = []
    for i in range(n_rows):
        value = _cell(rows, FIRST_ROW + i, col)
        if value in (None, 0, 1) and not isinstance(value, bool):
            if value == 1:
                marked.append(i)
            continue
        raise DataError(
            f"{path}: Valid cell {sheet}!{column_letter(col)}{FIRST_ROW + i} holds {value!r}; mark a validation row "
            "with 1 and a training row with 0"
        )
    return marked


def _with_marks(training: dict[str, Any], marked: list[int], n_rows: int) -> dict[str, Any]:
    """The training record with its split as the sheet's `n_rows` rows are marked now (as written: unchanged)."""
    from ..training import valid_positions

    try:
        if valid_positions(training, n_rows).tolist() == marked:
            return training
    except TitanicNNError:  # a split of other rows: the sheet's marks replace it
        pass
    split = dict(training.get("split") or {})
    split.update(valid_rows=marked, n_valid=len(marked), n_train=n_rows - len(marked))
    return training | {"split": split}


def _rows_frame(rows: list[tuple[Any, ...]], raw: dict[str, int], n_rows: int) -> pd.DataFrame:
    body = rows[FIRST_ROW - 1 : FIRST_ROW - 1 + n_rows]
    return pd.DataFrame({name: [cell_value(_cell([r], 1, col)) for r in body] for name, col in raw.items()})


def formula_cells(path: str | os.PathLike) -> dict[str, list[list[Any]]]:
    """Every sheet's cells as a formula engine takes them (all but the hidden description): None, a number, a
    boolean, "=formula" (an array formula at its anchor, the rest of its range empty for its result to spill
    into), or "'text" (the apostrophe marks text: a text that starts with "=" is still text)."""
    from openpyxl.utils.cell import range_boundaries

    sheets: dict[str, list[list[Any]]] = {}
    with open_workbook(path, formulas=True) as book:
        for name in book.sheetnames:
            if name == METADATA_SHEET:
                continue
            rows: list[list[Any]] = []
            spilled: set[tuple[int, int]] = set()
            for row in book[name].iter_rows():
                line: list[Any] = []
                for cell in row:
                    if not hasattr(cell, "column"):  # an empty cell of a sparse row
                        line.append(None)
                        continue
                    r, c, value = cell.row, cell.column, cell.value
                    while len(rows) < r - 1:
                        rows.append([])
                    line.extend([None] * (c - 1 - len(line)))
                    if (r, c) in spilled:
                        line.append(None)
                    elif hasattr(value, "ref"):  # an array formula's anchor
                        low_c, low_r, high_c, high_r = range_boundaries(value.ref)
                        spilled |= {(i, j) for i in range(low_r, high_r + 1) for j in range(low_c, high_c + 1)} - {(r, c)}
                        line.append(value.text)
                    elif cell.data_type == "f":
                        line.append(value)
                    elif isinstance(value, str):
                        line.append("'" + cell_value(value))
                    else:
                        line.append(value)
                rows.append(line)
            sheets[name] = rows
    return sheets


def cell_value(value: Any) -> Any:
    """A value as openpyxl reads it, with a text cell's "_xHHHH_" escapes read as Excel reads them."""
    return excel.unescape_text(value) if isinstance(value, str) else value


# -- the training sheets ----------------------------------------------------------------------------


def training_layouts(description: dict[str, Any], fits: Sequence[FittedModel], n_train: int) -> list[tuple[FittedModel, TrainingLayout]]:
    """The training sheets a workbook's description lists, each with its model and layout (for verify and read-back)."""
    recorded = description.get("training") or {}
    by_name = {fitted.name: fitted for fitted in fits}
    found = []
    for entry in recorded.get("sheets") or []:
        fitted = by_name.get(entry.get("model"))
        if fitted is None:
            raise DataError(f"the training sheet {entry.get('sheet')!r} names no model of the workbook")
        epochs = int(recorded.get("epochs") or 0)
        descent = Descent.from_settings(
            entry.get("optimizer"), entry.get("schedule"), max(epochs, 1), dict(entry.get("settings") or {})
        )
        _, blocks, _ = model_layout(fitted.features, fitted.model, n_train)
        found.append((fitted, training_layout(fitted.name, blocks, descent, epochs)))
    return found


def read_settings(layout: TrainingLayout, value: Any) -> Descent:
    """The descent (optimiser, schedule, weight decay) as the sheet's input cells hold it now (`value(row, col)` reads
    a cell)."""
    settings = {
        name: _cell_number(value(row, col), f"{layout.name}!{excel.column_letter(col)}{row} ({name})", TRAINING_FIX)
        for name, (row, col) in layout.settings.items()
    }
    return Descent.from_settings(layout.optimizer.name, layout.descent.schedule.name, layout.descent.steps, settings)


def read_blocks(
    blocks: Sequence[ParamBlock], value: Any, sheet: str, *, prefix: str = "", fix: str = TRAINING_FIX
) -> list[np.ndarray]:
    """The arrays a region of blocks holds (`value(row, col)` reads a cell), each cell a finite number or a DataError
    naming it (`prefix` and the sheet's cell) and the fix."""
    arrays = []
    for block in blocks:
        grid = [
            [_cell_number(value(r, c), f"{prefix}{sheet}!{excel.column_letter(c)}{r}", fix) for c in range(block.left, block.right + 1)]
            for r in range(block.top, block.bottom + 1)
        ]
        arrays.append(block.array(np.array(grid, dtype=np.float64)))
    return arrays


def read_epoch(layout: TrainingLayout, epoch: int, group: str, value: Any) -> list[np.ndarray]:
    """Each parameter array's block of `group` in epoch `epoch`, as the program's arrays."""
    blocks = []
    for index, block in enumerate(layout.start):
        top, left, _, _ = layout.block(epoch, group, index)
        blocks.append(replace(block, header_row=top - 1, label_col=left - 1))
    return read_blocks(blocks, value, layout.name)
