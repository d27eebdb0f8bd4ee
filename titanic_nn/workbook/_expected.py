"""The sheets a workbook's own contents make, and the formulas they hold: what verify holds a workbook to."""

from __future__ import annotations

import re
import warnings
from typing import Any

from .._plain import cut
from ._cells import Sheet
from ._readback import WorkbookContents, formula_cells, training_layouts
from ._sheet_xml import sheet_formulas
from ._sheets import build_sheets, written_frame
from ._training_sheets import SheetTraining, training_data, training_sheet

__all__ = ["expected_sheets", "expected_training_sheets", "formula_key", "FormulaCheck", "check_formulas"]


def _data_sheets(contents: WorkbookContents) -> tuple[list[Any], list[Sheet], Any]:
    features = contents.fits[0].features
    id_column = contents.description.get("id_column")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unseen levels were reported when the workbook was written
        train, train_filled = written_frame(features, contents.train, features.schema_.target_columns)
        test = test_filled = None
        if contents.test is not None:
            test, test_filled = written_frame(features, contents.test, [id_column] if id_column else [])
        model_sheets, others = build_sheets(
            contents.fits, train, train_filled, test, test_filled, id_column=id_column, submission=contents.submission,
        )
    return model_sheets, others, train


def expected_sheets(contents: WorkbookContents) -> list[Sheet]:
    """Every data sheet as Python computes it from the workbook's own inputs."""
    model_sheets, others, _ = _data_sheets(contents)
    return [m.sheet for m in model_sheets] + others


def expected_training_sheets(contents: WorkbookContents) -> list[Sheet]:
    """Every training sheet the workbook's description lists, as the writer makes it from the workbook's contents."""
    model_sheets, _, train = _data_sheets(contents)
    parts = {m.sheet.name: m for m in model_sheets}
    features = contents.fits[0].features
    n_train = len(contents.train)
    layouts = training_layouts(contents.description, contents.fits, n_train)
    if not layouts:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unseen levels were reported when the workbook was written
        X = features.transform(train, training=True)
    y = features.target(train)
    sheets = []
    for fitted, layout in layouts:
        part = parts[fitted.name]
        descent = layout.descent
        settings = descent.settings()
        lr = settings.pop("lr")
        plan = SheetTraining(
            epochs=layout.epochs, optimizer=descent.name, lr=lr, settings=settings, schedule=descent.schedule.name,
            wd=descent.wd,
        )
        rows = training_data(fitted, part.sheet.name, part.data, n_train, part.valid_col)
        sheets.append(training_sheet(fitted, part.sheet.name, part.blocks, rows, X, y, plan).sheet)
    return sheets


# A formula's pieces: a quoted sheet name, a text literal, a number, a name or reference, one other character.
_TOKEN = re.compile(
    r"""\s*(?:('(?:[^']|'')*')|("(?:[^"]|"")*")|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![A-Za-z_(])|"""
    r"""([A-Za-z_$\\][A-Za-z0-9_.$]*)|(\S))"""
)
# The prefixes writers put before newer functions' names (Excel's _xlfn.), dropped when comparing.
_PREFIXES = re.compile(r"^(?:_XLFN\.|_XLWS\.|_XLUDF\.)+")


def formula_key(text: str) -> tuple[Any, ...]:
    """A formula as the pieces an engine keeps when it saves it again: text literals and sheet names exactly, names
    and references without case or a writer's _xlfn. prefix, numbers by value (1E-12 and 0.000000000001 alike),
    spaces ignored. Two formulas with one key compute the same."""
    body = text[1:] if text.startswith("=") else text
    key: list[Any] = []
    for sheet, literal, number, name, other in _TOKEN.findall(body):
        if sheet:
            key.append(("sheet", sheet))
        elif literal:
            key.append(("text", literal))
        elif number:
            key.append(("number", float(number)))
        elif name:
            key.append(("name", _PREFIXES.sub("", name.upper())))
        elif other:
            key.append(other)
    return tuple(key)


class FormulaCheck:
    """Whether each cell Python writes as a formula still holds that formula: `checked` cells, `mismatches`, and the
    first one as "linear!O4: Python =E4/E$1, the workbook 0.2875"."""

    def __init__(self) -> None:
        self.checked = 0
        self.mismatches = 0
        self.first: str | None = None

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def __str__(self) -> str:
        if self.ok:
            return f"all {self.checked} formulas are the ones titanic-nn writes"
        return f"{self.mismatches} of {self.checked} formula cells hold something else, first {self.first}"


def check_formulas(contents: WorkbookContents, sheets: list[Sheet] | None = None) -> FormulaCheck:
    """Compare every formula Python writes (in `sheets`, by default the data and training sheets the contents make)
    with the workbook's cell: a value where a formula belongs (a formula pasted over by its own value) or another
    formula is a mismatch; an engine's rewriting of the same formula (case, spaces, number spelling, _xlfn.) is not."""
    if sheets is None:
        sheets = expected_sheets(contents) + expected_training_sheets(contents)
    from .. import excel

    found = formula_cells(contents.path)
    report = FormulaCheck()

    def mismatch(sheet: Sheet, row: int, col: int, python: str, got: Any) -> None:
        report.mismatches += 1
        if report.first is None:
            shown = "an empty cell" if got is None else cut(str(got)) if isinstance(got, str) else repr(got)
            report.first = f"{sheet.name}!{excel.column_letter(col)}{row}: Python {python}, the workbook {shown}"

    for sheet in sheets:
        rows = found.get(sheet.name, [])
        written: set[tuple[int, int]] = set()
        for row, col, expected in sheet_formulas(sheet):
            written.add((row, col))
            line = rows[row - 1] if row - 1 < len(rows) else []
            got = line[col] if col < len(line) else None
            report.checked += 1
            if isinstance(got, str) and got.startswith("=") and (got[1:] == expected or formula_key(got) == formula_key(expected)):
                continue
            mismatch(sheet, row, col, f"={cut(expected)}", got)
        # and no formula where Python writes a value: a formula there would be recomputed, not checked
        for r, line in enumerate(rows, start=1):
            for c, got in enumerate(line):
                if isinstance(got, str) and got.startswith("=") and (r, c) not in written:
                    mismatch(sheet, r, c, "writes no formula there", got)
    return report
