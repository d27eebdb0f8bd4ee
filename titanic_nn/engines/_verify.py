"""verify: spreadsheet engines recompute a workbook and every computed cell is compared with Python's float64 value.

Python's values are rebuilt from the workbook itself: the hidden sheet's features and model settings,
the parameters and raw rows found in the sheets (as read_workbook reads them), put through the same
sheet builders that wrote the file. So a workbook whose parameters were re-solved in Excel verifies too.
Each engine recalculates its own copy (forced), and each copy is compared on its own.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .. import excel
from ..errors import SpreadsheetEngineError
from ..workbook import Sheet, WorkbookContents, build_sheets, cell_value, open_workbook, read_contents, read_rows, written_frame
from ._engine import Engine, SheetValues
from ._registry import ENGINES
from ._training_check import TrainingReport, compare_training_sheets, number_or_nan

__all__ = [
    "EngineReport", "VerifyReport", "verify", "verify_many", "compare", "recalculate", "choose_engines", "RTOL", "ATOL",
]

RTOL, ATOL = 1e-9, 1e-12


@dataclass
class EngineReport:
    """One engine's outcome: cells compared, the largest differences and the first cell that disagrees."""

    engine: str
    path: Path
    cells_checked: int = 0
    mismatches: int = 0
    max_abs_diff: float = 0.0
    max_rel_diff: float = 0.0
    first_mismatch: str | None = None  # "linear!Q4: Python 0.25, sheet 0.5"
    training: list[TrainingReport] = field(default_factory=list)  # each training sheet's steps

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.cells_checked > 0 and all(t.ok for t in self.training)

    @property
    def label(self) -> str:
        return ENGINES[self.engine].label if self.engine in ENGINES else self.engine

    def __str__(self) -> str:
        head = f"{self.path}: {self.cells_checked} cells recomputed by {self.label}"
        diffs = f"largest difference {self.max_abs_diff:.3g} (relative {self.max_rel_diff:.3g})"
        if self.ok:
            return f"{head} agree with Python (rtol {RTOL:g}, atol {ATOL:g}); {diffs}"
        return f"{head}: {self.mismatches} disagree, first {self.first_mismatch}; {diffs}"

    def training_lines(self) -> list[str]:
        """One line per training sheet: its steps, and whether its whole trajectory agrees with Python's."""
        lines = []
        for t in self.training:
            steps = (
                f"all {t.cells_checked} cells of its {t.epochs} steps agree with Python's step from the same parameters"
                if t.ok else f"{t.mismatches} of {t.cells_checked} cells of its steps disagree, first {t.first_mismatch}"
            )
            path = (
                "the whole trajectory agrees with Python's" if t.trajectory_epoch is None
                else f"the trajectory leaves Python's at epoch {t.trajectory_epoch} (largest relative difference "
                f"{t.trajectory_rel_diff:.2g}: expected where the learning rate makes the descent chaotic)"
            )
            lines.append(f"{self.label}: {t.sheet}: {steps}; {path}")
        return lines


@dataclass
class VerifyReport:
    """Every engine's report on one workbook; `ok` when each engine recomputed every cell as Python did."""

    path: Path
    engines: list[EngineReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.engines) and all(report.ok for report in self.engines)

    @property
    def cells_checked(self) -> int:
        """The cells each engine recomputed and compared (the same cells for every engine)."""
        return min((report.cells_checked for report in self.engines), default=0)

    @property
    def mismatches(self) -> int:
        return sum(report.mismatches for report in self.engines)

    @property
    def max_abs_diff(self) -> float:
        return max((report.max_abs_diff for report in self.engines), default=0.0)

    @property
    def max_rel_diff(self) -> float:
        return max((report.max_rel_diff for report in self.engines), default=0.0)

    @property
    def first_mismatch(self) -> str | None:
        """The first disagreement, with the engine that found it: "gnumeric: linear!J4: Python 0.91, sheet 2.1"."""
        return next((f"{r.engine}: {r.first_mismatch}" for r in self.engines if r.first_mismatch), None)

    def __getitem__(self, engine: str) -> EngineReport:
        for report in self.engines:
            if report.engine == engine:
                return report
        raise KeyError(f"{engine} did not verify {self.path}; the engines were {', '.join(r.engine for r in self.engines)}")

    def __str__(self) -> str:
        return "; ".join(str(report) for report in self.engines) or f"{self.path}: no engine recomputed it"


def choose_engines(engines: str | Sequence[str] | None = None, binaries: Mapping[str, Any] | None = None) -> list[Engine]:
    """The engines to verify with: None, every installed one (and any given a binary); "all", every one that
    `all` takes (LibreOffice and Gnumeric always, HyperFormula where Node is present), each then required; or the
    names given."""
    binaries = {k: v for k, v in (binaries or {}).items() if v is not None}
    if engines is None:
        chosen = [e for e in ENGINES.values() if e.name in binaries or e.available()]
        if not chosen:
            packages = " ".join(e.package for e in ENGINES.values())
            labels = " and ".join(f"{e.label} ({e.binaries[0]})" for e in ENGINES.values())
            raise SpreadsheetEngineError(
                f"no spreadsheet engine found: {labels} are not installed or not on PATH; install them with "
                f"`apt-get install -y --no-install-recommends {packages}` (Debian/Ubuntu)"
            )
        return chosen
    if engines == "all":
        names = [e.name for e in ENGINES.values() if e.in_all()]
    else:
        names = [engines] if isinstance(engines, str) else list(engines)
    unknown = [n for n in names if n not in ENGINES]
    if unknown or not names:
        raise SpreadsheetEngineError(
            f"unknown engine {', '.join(map(repr, unknown)) or '(none given)'}; the engines are {', '.join(ENGINES)} or all"
        )
    return [ENGINES[n] for n in dict.fromkeys(names)]


def recalculate(
    paths: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    engine: str = "libreoffice",
    binary: str | os.PathLike | None = None,
    soffice: str | os.PathLike | None = None,
    timeout: float | None = None,
) -> list[Path]:
    """Recalculate each workbook in one engine ("libreoffice" or "gnumeric"), forced, into .xlsx copies in `outdir`."""
    (chosen,) = choose_engines(engine)
    return chosen.recalculate(paths, outdir, binary=binary if binary is not None else soffice, timeout=timeout)


def verify(
    path: str | os.PathLike,
    *,
    engines: str | Sequence[str] | None = None,
    soffice: str | None = None,
    ssconvert: str | None = None,
    timeout: float | None = None,
) -> VerifyReport:
    """Recalculate `path` in each engine (forced) and compare every computed cell with Python's value.

    engines: None (every installed engine: LibreOffice and/or Gnumeric), "all" (both, each required),
    or a name or list of names ("libreoffice", "gnumeric"). `soffice`/`ssconvert` name the programs.
    """
    return verify_many([path], engines=engines, soffice=soffice, ssconvert=ssconvert, timeout=timeout)[0]


def verify_many(
    paths: Sequence[str | os.PathLike],
    *,
    engines: str | Sequence[str] | None = None,
    soffice: str | None = None,
    ssconvert: str | None = None,
    timeout: float | None = None,
) -> list[VerifyReport]:
    """verify for several workbooks, each engine started once for all of them where it can be."""
    binaries = {"libreoffice": soffice, "gnumeric": ssconvert}
    chosen = choose_engines(engines, binaries)
    contents = [read_contents(p) for p in paths]
    reports = [VerifyReport(Path(p)) for p in paths]
    with tempfile.TemporaryDirectory(prefix="titanic-nn-verify-") as scratch:
        for engine in chosen:
            recalculated = engine.values(
                paths, Path(scratch) / engine.name, binary=binaries.get(engine.name), timeout=timeout
            )
            for report, content, copy in zip(reports, contents, recalculated):
                report.engines.append(compare(content, copy, engine.name))
    return reports


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


@contextmanager
def _opened(recalculated: str | os.PathLike | SheetValues) -> Iterator[Any]:
    """The engine's values by sheet: a recalculated copy read like any workbook (bounded, no DTD, no macros), or the
    values an engine gave in memory."""
    if isinstance(recalculated, SheetValues):
        yield recalculated
        return
    with open_workbook(recalculated) as book:
        yield _Copy(book, recalculated)


class _Copy:
    """A recalculated copy's values by sheet, as SheetValues gives them."""

    def __init__(self, book: Any, path: str | os.PathLike) -> None:
        self.book, self.path = book, path

    @property
    def sheetnames(self) -> list[str]:
        return list(self.book.sheetnames)

    def rows(self, name: str, last_row: int | None = None) -> list[tuple[Any, ...]]:
        return read_rows(self.book, name, last_row, source=self.path)


def compare(
    contents: WorkbookContents, recalculated: str | os.PathLike | SheetValues, engine: str = "libreoffice"
) -> EngineReport:
    """Compare the cells of `engine`'s recalculation of `contents.path` (a recalculated copy, or the values it gave)
    with Python's values.

    A sheet the engine did not write back (it dropped it) counts every one of its computed cells as a
    disagreement: verify compares every sheet the workbook was written with.
    """
    report = EngineReport(engine, contents.path)
    sheets = expected_sheets(contents)
    # read only down to the last row a computed cell sits in
    with _opened(recalculated) as book:
        for sheet in sheets:
            last_row = max([sheet.last_row] + [cell.row for cell in sheet.cells])
            rows = book.rows(sheet.name, last_row) if sheet.name in book.sheetnames else []
            for where, expected, got in _computed(sheet, rows):
                _tally(report, where, expected, got)
            if sheet.name not in book.sheetnames and report.first_mismatch is not None:
                report.first_mismatch = f"{report.first_mismatch} (the engine dropped sheet {sheet.name})"

        def value_of(name: str) -> Any:
            rows = book.rows(name) if name in book.sheetnames else []

            def value(row: int, col: int) -> Any:
                line = rows[row - 1] if row - 1 < len(rows) else ()
                return line[col] if col < len(line) else None

            return value

        report.training = compare_training_sheets(contents, value_of, RTOL, ATOL)
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


def _tally(report: EngineReport, where: list[str], expected: list[Any], got: list[Any]) -> None:
    numeric = [not isinstance(e, str) for e in expected]
    exp = np.array([e if n else np.nan for e, n in zip(expected, numeric)], dtype=np.float64)
    sheet = np.array([number_or_nan(g) for g in got], dtype=np.float64)
    diff = np.abs(sheet - exp)
    close = diff <= ATOL + RTOL * np.abs(exp)
    text_ok = np.array([not n and _same_text(g, e) for e, g, n in zip(expected, got, numeric)], dtype=bool)
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
        sheet_value = cell_value(got[i])
        report.first_mismatch = f"{where[i]}: Python {python}, sheet {sheet_value!r}"


def _same_text(got: Any, expected: str) -> bool:
    """Whether a text result read from an engine's copy is Python's text.

    The copy's text is read under both escape conventions in use: the standard one (Excel's, and the
    one titanic-nn writes), and the one LibreOffice writes, which escapes only the first of two
    overlapping runs such as "_x0000_x0000_" (its computation is right; only its copy differs).
    """
    if got is None:
        return expected == ""  # a formula's empty text: read back as an empty cell
    if not isinstance(got, str):
        return False
    expected = _lines(expected)
    return _lines(excel.unescape_text(got)) == expected or _lines(_unescape_first_runs(got)) == expected


def _unescape_first_runs(text: str) -> str:
    """The inverse of escaping each "_xHHHH_" found scanning left to right without overlaps."""
    return _FIRST_RUN.sub(lambda m: m.group(1) or chr(int(m.group(2), 16)), text) if "_x" in text else text


_FIRST_RUN = re.compile(r"_x005[Ff](_x[0-9A-Fa-f]{4}_)|_x([0-9A-Fa-f]{4})_")


def _lines(text: str) -> str:
    """Text with its line breaks in one form: an engine may give one back as CR, LF or CRLF (LibreOffice
    reads CRLF as LF; Gnumeric writes a CR raw, which XML readers read as LF), the text being the same."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
