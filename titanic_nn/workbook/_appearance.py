"""How the sheets look: cell styles and number formats, column widths fitted to their text, panes and print setup."""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ._cells import Sheet

__all__ = ["STYLES", "style_computed_columns", "fit_widths", "set_up_page"]

# Number formats: computed values with 4 decimals; parameters and losses, which Solver changes and a
# reader compares, with 6; whole numbers (dummies, the constant) without decimals.
DECIMALS = {"number": 4, "param": 6, "total": 6}

STYLES = {
    "header": {"bold": True, "bottom": 1, "text_wrap": False},
    "label": {"bold": True},
    "note": {"italic": True, "font_color": "#595959"},
    "statistic": {"italic": True, "bg_color": "#F2F2F2"},  # a learned statistic: a Max or Fill cell
    "total": {"bold": True, "bg_color": "#E2EFDA", "border": 1, "num_format": "0.000000"},
    # Excel's own "Input" cell style: the cells Solver (or a person) changes
    "param": {"bg_color": "#FFCC99", "font_color": "#3F3F76", "border": 1, "border_color": "#7F7F7F", "num_format": "0.000000"},
    "filled": {"bg_color": "#FFEB9C"},
    "number": {"num_format": "0.0000"},
    "integer": {"num_format": "0"},
    "about": {"text_wrap": True, "valign": "top"},
    "about_heading": {"bold": True, "text_wrap": True, "valign": "top"},
}

# Column widths, in characters of the default font: never narrower or wider than these.
MIN_WIDTH, MAX_WIDTH, TEXT_SAMPLE = 6.0, 48.0, 4096
GENERAL_DIGITS = 11  # the General format shows at most about this many characters of a number


def style_computed_columns(sheet: Sheet) -> None:
    """Give each computed numeric column its number format: whole numbers without decimals, the rest with 4."""
    for column in sheet.columns:
        if column.style is not None or not column.computed or not _numeric(column.values):
            continue
        values = np.asarray(column.values, dtype=np.float64)
        finite = values[np.isfinite(values)]
        column.style = "integer" if finite.size and np.all(finite == np.round(finite)) else "number"


def fit_widths(sheet: Sheet) -> dict[int, float]:
    """Each used column's width: wide enough for its header and the widest value as its format shows it."""
    widths: dict[int, float] = {}

    def need(col: int, chars: float) -> None:
        widths[col] = max(widths.get(col, MIN_WIDTH), min(MAX_WIDTH, chars + 2.0))

    for column in sheet.columns:
        need(column.col, len(column.header) * 1.1)  # headers are bold
        need(column.col, _shown_width(column.values, column.style))
    # single cells and blocks: their values gathered by column and style, each group measured once
    groups: dict[tuple[int, str | None], list[Any]] = {}
    for cell in sheet.cells:
        if cell.style != "note":  # a note runs on over the empty cells to its right
            groups.setdefault((cell.col, cell.style), []).append(cell.value)
    for block in sheet.blocks:
        for j in range(block.values.shape[1]):
            groups.setdefault((block.left + j, block.style), []).append(block.values[:, j])
    for (col, style), values in groups.items():
        numbers = [v for v in values if isinstance(v, np.ndarray)]
        others = [v for v in values if not isinstance(v, np.ndarray)]
        if numbers:
            need(col, _number_width(np.concatenate(numbers), style))
        if others:
            need(col, _shown_width(others, style) * (1.1 if style in ("label", "header") else 1.0))
    for col, width in sheet.widths.items():
        widths[col] = max(widths.get(col, MIN_WIDTH), width)
    return widths


def _numeric(values: Any) -> bool:
    return isinstance(values, np.ndarray) and values.dtype.kind in "fiu"


def _shown_width(values: Any, style: str | None) -> float:
    """The characters the widest of `values` takes as `style`'s format shows it."""
    if values is None:
        return 0.0
    if _numeric(values):
        return _number_width(np.asarray(values, dtype=np.float64), style)
    widest = 0.0
    numbers = []
    for value in _sample(values):
        if isinstance(value, str):
            widest = max(widest, float(max((len(line) for line in value.splitlines()), default=0)))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers.append(float(value))
    if numbers:
        widest = max(widest, _number_width(np.asarray(numbers), style))
    return widest


def _sample(values: Iterable[Any]) -> list[Any]:
    values = list(values) if not isinstance(values, list) else values
    if len(values) <= TEXT_SAMPLE:
        return values
    step = math.ceil(len(values) / TEXT_SAMPLE)
    return values[::step]


def _number_width(values: np.ndarray, style: str | None) -> float:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0
    top = float(np.max(np.abs(finite)))
    integer_digits = len(str(int(top))) if top < 1e15 else 16
    sign = 1 if np.any(finite < 0) else 0
    decimals = DECIMALS.get(style or "", None)
    if style == "integer":
        return float(integer_digits + sign)
    if decimals is not None:
        return float(integer_digits + sign + 1 + decimals)
    # General: as many digits as the value needs, up to what General shows
    longest = max(len(repr(float(v))) - (2 if float(v).is_integer() else 0) for v in finite[:TEXT_SAMPLE])
    return float(min(longest, GENERAL_DIGITS))


def set_up_page(worksheet: Any, sheet: Sheet, frozen_columns: int) -> None:
    """Frozen header rows (and the first `frozen_columns` raw columns); landscape, one page wide, the
    header rows repeated on every page, the sheet's used range as its print area."""
    header_rows = sheet.first_row - 1
    worksheet.freeze_panes(header_rows, frozen_columns)
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(0, header_rows - 1)
    last_row = max([sheet.last_row] + [c.row for c in sheet.cells])
    last_col = max([c.col for c in sheet.columns] + [c.col for c in sheet.cells])
    worksheet.print_area(0, 0, last_row - 1, last_col)

