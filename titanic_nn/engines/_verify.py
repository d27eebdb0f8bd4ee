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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .. import excel
from .._files import size_text
from ..errors import SpreadsheetEngineError, TitanicNNError
from ..workbook import (
    FormulaCheck, Sheet, WorkbookContents, cell_value, check_formulas, expected_sheets, open_workbook, read_contents, read_rows,
)
from ._engine import Engine, SheetValues
from ._registry import ENGINES
from ._training_check import TrainingReport, compare_training_sheets, number_or_nan

__all__ = [
    "EngineReport", "VerifyReport", "verify", "verify_many", "compare", "recalculate", "choose_engines", "RTOL", "ATOL", "tolerance",
]

RTOL, ATOL = 1e-9, 1e-12
# Below this much free space in $TMPDIR an engine's failure is put down to the disk (LibreOffice alone needs ~20 MB).
ROOM_NEEDED = 64 << 20


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
    formulas: FormulaCheck | None = None  # the workbook's own formulas, each the one Python writes

    @property
    def ok(self) -> bool:
        formulas_ok = self.formulas is None or self.formulas.ok
        return bool(self.engines) and all(report.ok for report in self.engines) and formulas_ok

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
        """The first disagreement, with the engine that found it: "gnumeric: linear!J4: Python 0.91, sheet 2.1", or
        with "formulas" where a cell no longer holds its formula: "formulas: linear!J4: Python =LOG10(F4+1), ..."."""
        if self.formulas is not None and self.formulas.first is not None:
            return f"formulas: {self.formulas.first}"
        return next((f"{r.engine}: {r.first_mismatch}" for r in self.engines if r.first_mismatch), None)

    def __getitem__(self, engine: str) -> EngineReport:
        for report in self.engines:
            if report.engine == engine:
                return report
        raise KeyError(f"{engine} did not verify {self.path}; the engines were {', '.join(r.engine for r in self.engines)}")

    def __str__(self) -> str:
        lines = [f"{self.path}: {self.formulas}"] if self.formulas is not None else []
        if self.engines:
            lines += [str(report) for report in self.engines]
        elif self.formulas is not None and not self.formulas.ok:
            lines[-1] += ", so no engine recalculated it"
        else:
            lines.append(f"{self.path}: no engine recomputed it")
        return "; ".join(lines)


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

    engines: None (every installed engine), "all" (LibreOffice, Gnumeric, and HyperFormula where Node is present,
    each then required), or a name or list of names ("libreoffice", "gnumeric", "hyperformula"). `soffice` and
    `ssconvert` name the programs. The workbook's formulas are checked first (`report.formulas`)."""
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
    # a cell whose formula was replaced (by its own cached value, say) would agree with any engine: the formulas first
    reports = [VerifyReport(Path(p), formulas=check_formulas(content)) for p, content in zip(paths, contents)]
    # a workbook whose formulas are not Python's is refused as it is: no engine's values there would prove anything
    sound = [i for i, report in enumerate(reports) if report.formulas is None or report.formulas.ok]
    if not sound:
        return reports
    with _scratch() as scratch:
        for engine in chosen:
            recalculated = engine.values(
                [paths[i] for i in sound], Path(scratch) / engine.name, binary=binaries.get(engine.name), timeout=timeout
            )
            for i, copy in zip(sound, recalculated):
                reports[i].engines.append(compare(contents[i], copy, engine.name))
    return reports


@contextmanager
def _scratch() -> Iterator[str]:
    """verify's private folder in $TMPDIR, removed on every way out; a failure to write there (a full disk) names the
    folder and the fix, not the workbook being verified, and so does an engine's failure while the folder's disk is
    all but full (the engines write their profiles and copies there, and report a full disk each in its own way)."""
    folder = tempfile.gettempdir()
    try:
        with tempfile.TemporaryDirectory(prefix="titanic-nn-verify-") as scratch:
            try:
                yield scratch
            except SpreadsheetEngineError as exc:
                free = _free_bytes(scratch)
                if free is not None and free < ROOM_NEEDED:
                    raise SpreadsheetEngineError(
                        f"{folder}: too little room there for verify's engines ({size_text(free)} free, they need about {size_text(ROOM_NEEDED)}): {exc}; free some "
                        "space there or point TMPDIR at a folder with room"
                    ) from exc
                raise
            except TitanicNNError:
                raise
            except OSError as exc:
                raise _scratch_failed(folder, exc) from exc
    except TitanicNNError:
        raise
    except OSError as exc:
        raise _scratch_failed(folder, exc) from exc


def _free_bytes(folder: str) -> int | None:
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows
        return None
    return stats.f_bavail * stats.f_frsize


def _scratch_failed(folder: str, exc: OSError) -> SpreadsheetEngineError:
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return SpreadsheetEngineError(
        f"{folder}: verify cannot write its engines' copies there ({reason}); free some space there or point TMPDIR "
        "at a folder with room"
    )


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
            for where, expected, got, scale in _computed(sheet, rows):
                _tally(report, where, expected, got, scale)
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


def _computed(sheet: Sheet, rows: list[tuple[Any, ...]]) -> Iterable[tuple[list[str], list[Any], list[Any], Any]]:
    """(addresses, Python's values, the sheet's values, the size of the terms behind each or None) for each
    computed column and cell."""

    def at(row: int, col: int) -> Any:
        line = rows[row - 1] if row - 1 < len(rows) else ()
        return line[col] if col < len(line) else None

    for column in sheet.columns:
        letter = excel.column_letter(column.col)
        scale = None
        if column.computed:
            positions, values = range(sheet.n_rows), list(column.values)
            scale = column.scale
        elif column.fill_formula is not None and column.highlight is not None:
            positions = np.flatnonzero(column.highlight).tolist()  # a filled cell refers to its fill value
            values = [column.values[i] for i in positions]
        else:
            continue
        row_numbers = [sheet.first_row + i for i in positions]
        yield [f"{sheet.name}!{letter}{r}" for r in row_numbers], values, [at(r, column.col) for r in row_numbers], scale
    for single in sheet.cells:
        if single.computed:
            scale = None if single.scale is None else [single.scale]
            yield [f"{sheet.name}!{excel.column_letter(single.col)}{single.row}"], [single.value], [at(single.row, single.col)], scale


def tolerance(expected: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """How far an engine's value may lie from Python's: ATOL + RTOL times the larger of the value and the size of the
    terms summed into it (`scale`), since terms that cancel leave a small value with the rounding of large ones."""
    size = np.abs(expected) if scale is None else np.fmax(np.abs(expected), np.asarray(scale, dtype=np.float64))
    return ATOL + RTOL * size


def _tally(report: EngineReport, where: list[str], expected: list[Any], got: list[Any], scale: Any = None) -> None:
    numeric = [not isinstance(e, str) for e in expected]
    exp = np.array([e if n else np.nan for e, n in zip(expected, numeric)], dtype=np.float64)
    sheet = np.array([number_or_nan(g) for g in got], dtype=np.float64)
    diff = np.abs(sheet - exp)
    close = diff <= tolerance(exp, scale)
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

    The copy's text is read under each of the three escape conventions in use: the standard one (Excel's, and
    the one titanic-nn writes); the one LibreOffice writes, which escapes only the first of two overlapping runs
    such as "_x0000_x0000_"; and Gnumeric's, which escapes nothing, so a computed "_x0000_" is written as it is
    (each engine's computation is right; only its copy's spelling differs).
    """
    if got is None:
        return expected == ""  # a formula's empty text: read back as an empty cell
    if not isinstance(got, str):
        return False
    expected = _lines(expected)
    return any(_lines(read(got)) == expected for read in (excel.unescape_text, _unescape_first_runs, str))


def _unescape_first_runs(text: str) -> str:
    """The inverse of escaping each "_xHHHH_" found scanning left to right without overlaps."""
    return _FIRST_RUN.sub(lambda m: m.group(1) or chr(int(m.group(2), 16)), text) if "_x" in text else text


_FIRST_RUN = re.compile(r"_x005[Ff](_x[0-9A-Fa-f]{4}_)|_x([0-9A-Fa-f]{4})_")


def _lines(text: str) -> str:
    """Text with its line breaks in one form: an engine may give one back as CR, LF or CRLF (LibreOffice
    reads CRLF as LF; Gnumeric writes a CR raw, which XML readers read as LF), the text being the same."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
