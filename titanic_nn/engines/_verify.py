"""verify: LibreOffice recomputes a workbook and every computed cell is compared with Python's float64 value.

Python's values are rebuilt from the workbook itself: the hidden sheet's features and model settings,
the parameters and raw rows found in the sheets (as read_workbook reads them), put through the same
sheet builders that wrote the file. So a workbook whose parameters were re-solved in Excel verifies too.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .. import excel
from ..workbook import Sheet, WorkbookContents, build_sheets, read_contents, written_frame
from ._libreoffice import recalculate

__all__ = ["VerifyReport", "verify", "verify_many", "compare", "RTOL", "ATOL"]

RTOL, ATOL = 1e-9, 1e-12


@dataclass
class VerifyReport:
    """The outcome: cells compared, the largest differences and the first cell that disagrees."""

    path: Path
    cells_checked: int = 0
    mismatches: int = 0
    max_abs_diff: float = 0.0
    max_rel_diff: float = 0.0
    first_mismatch: str | None = None  # "linear!Q4: Python 0.25, sheet 0.5"

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.cells_checked > 0

    def __str__(self) -> str:
        head = f"{self.path}: {self.cells_checked} cells recomputed by LibreOffice"
        diffs = f"largest difference {self.max_abs_diff:.3g} (relative {self.max_rel_diff:.3g})"
        if self.ok:
            return f"{head} agree with Python (rtol {RTOL:g}, atol {ATOL:g}); {diffs}"
        return f"{head}: {self.mismatches} disagree, first {self.first_mismatch}; {diffs}"


def verify(path: str | os.PathLike, *, soffice: str | None = None, timeout: float | None = None) -> VerifyReport:
    """Recalculate `path` in LibreOffice headless (forced) and compare every computed cell with Python."""
    return verify_many([path], soffice=soffice, timeout=timeout)[0]


def verify_many(
    paths: Sequence[str | os.PathLike], *, soffice: str | None = None, timeout: float | None = None
) -> list[VerifyReport]:
    """verify for several workbooks with one LibreOffice start."""
    contents = [read_contents(p) for p in paths]
    with tempfile.TemporaryDirectory(prefix="titanic-nn-verify-") as scratch:
        recalculated = recalculate(paths, scratch, soffice=soffice, timeout=timeout)
        return [compare(c, r) for c, r in zip(contents, recalculated)]


def expected_sheets(contents: WorkbookContents) -> list[Sheet]:
    """Every data sheet as Python computes it from the workbook's own inputs."""
    features = contents.fits[0].features
    id_column = contents.description.get("id_column")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unseen levels were reported when the workbook was written
        train, train_filled = written_frame(features, contents.train, [features.schema_.target])
        test = test_filled = None
        if contents.test is not None:
            test, test_filled = written_frame(features, contents.test, [id_column] if id_column else [])
        model_sheets, others = build_sheets(
            contents.fits, train, train_filled, test, test_filled, id_column=id_column, submission=contents.submission,
        )
    return [m.sheet for m in model_sheets] + others


def compare(contents: WorkbookContents, recalculated: str | os.PathLike) -> VerifyReport:
    """Compare the cells of a recalculated copy of `contents.path` with Python's values."""
    import openpyxl

    report = VerifyReport(contents.path)
    book = openpyxl.load_workbook(recalculated, read_only=True, data_only=True)
    try:
        for sheet in expected_sheets(contents):
            rows = list(book[sheet.name].iter_rows(values_only=True))
            for where, expected, got in _computed(sheet, rows):
                _tally(report, where, expected, got)
    finally:
        book.close()
    return report


def _computed(sheet: Sheet, rows: list[tuple[Any, ...]]) -> Iterable[tuple[list[str], list[Any], list[Any]]]:
    """(addresses, Python's values, the sheet's values) for each computed column and cell."""

    def at(row: int, col: int) -> Any:
        line = rows[row - 1] if row - 1 < len(rows) else ()
        return line[col] if col < len(line) else None

    for column in sheet.columns:
        letter = excel.column_letter(column.col)
        if column.computed:
            positions, values = range(sheet.n_rows), list(column.values)
        elif column.fill_formula is not None and column.highlight is not None:
            positions = np.flatnonzero(column.highlight).tolist()  # a filled cell refers to its fill value
            values = [column.values[i] for i in positions]
        else:
            continue
        row_numbers = [sheet.first_row + i for i in positions]
        yield [f"{sheet.name}!{letter}{r}" for r in row_numbers], values, [at(r, column.col) for r in row_numbers]
    for single in sheet.cells:
        if single.computed:
            yield [f"{sheet.name}!{excel.column_letter(single.col)}{single.row}"], [single.value], [at(single.row, single.col)]


def _tally(report: VerifyReport, where: list[str], expected: list[Any], got: list[Any]) -> None:
    numeric = [not isinstance(e, str) for e in expected]
    exp = np.array([e if n else np.nan for e, n in zip(expected, numeric)], dtype=np.float64)
    sheet = np.array([_float(g) for g in got], dtype=np.float64)
    diff = np.abs(sheet - exp)
    close = diff <= ATOL + RTOL * np.abs(exp)
    text_ok = np.array([not n and str(g) == e for e, g, n in zip(expected, got, numeric)], dtype=bool)
    good = np.where(numeric, close, text_ok)
    report.cells_checked += len(expected)
    finite = np.isfinite(diff) & np.asarray(numeric)
    if finite.any():
        report.max_abs_diff = max(report.max_abs_diff, float(diff[finite].max()))
        nonzero = finite & (exp != 0)
        if nonzero.any():
            report.max_rel_diff = max(report.max_rel_diff, float((diff[nonzero] / np.abs(exp[nonzero])).max()))
    bad = np.flatnonzero(~good)
    report.mismatches += len(bad)
    if len(bad) and report.first_mismatch is None:
        i = int(bad[0])
        python = repr(float(expected[i])) if numeric[i] else repr(expected[i])
        report.first_mismatch = f"{where[i]}: Python {python}, sheet {got[i]!r}"


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return np.nan
    return float(value)
