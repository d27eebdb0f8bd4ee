"""Writes a `Sheet` as OOXML rows straight into an XlsxWriter worksheet, fast enough for 100,000-row sheets.

XlsxWriter's write_formula costs tens of microseconds a cell (it rescans every formula for newer
functions); this writes the same <row>/<c> elements column by column, a block of rows at a time,
into the row buffer XlsxWriter keeps in constant_memory mode. It relies on that mode's internals
(`fh`, `_check_dimensions`, `Format._get_xf_index`): XlsxWriter still writes everything around the
rows (styles, widths, panes, names, charts) and the rows it does not see are copied as they are.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any, Iterable

import numpy as np

from . import excel
from .cells import Column, Sheet

__all__ = ["write_sheet", "CHUNK_ROWS"]

CHUNK_ROWS = 4096  # rows rendered at once: bounds memory whatever the sheet's length

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text


def _number(value: Any) -> str | None:
    """The value's shortest exact text; None for a blank (NaN) or a value no cell can hold (inf)."""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if not math.isfinite(value):
        return None
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _style(styles: dict[str, Any], name: str | None) -> str:
    return "" if name is None else f' s="{styles[name]._get_xf_index()}"'


def _value_cell(ref: str, style: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>'
    text = _number(value)
    return "" if text is None else f'<c r="{ref}"{style}><v>{text}</v></c>'


def _formula_cell(ref: str, style: str, formula: str, value: Any, array_ref: str | None = None) -> str:
    kind = "" if array_ref is None else f' t="array" ref="{array_ref}"'
    if isinstance(value, str):
        return f'<c r="{ref}"{style} t="str"><f{kind}>{formula}</f><v>{_escape(value)}</v></c>'
    text = None if value is None else _number(value)
    cached = "" if text is None else f"<v>{text}</v>"
    return f'<c r="{ref}"{style}><f{kind}>{formula}</f>{cached}</c>'


def _column_cells(column: Column, rows: range, offset: int, styles: dict[str, Any]) -> list[str]:
    """The XML of `column`'s cells in `rows` (1-based); `offset` is the index of rows[0] in its values."""
    letter = excel.column_letter(column.col)
    plain = _style(styles, column.style)
    marked = _style(styles, "filled")
    values = column.values
    chunk = list(values[offset : offset + len(rows)]) if values is not None else [None] * len(rows)
    if isinstance(values, np.ndarray):
        chunk = values[offset : offset + len(rows)].tolist()
    if column.highlight is not None:
        flags = column.highlight[offset : offset + len(rows)]
        style_of = [marked if flag else plain for flag in flags]
    else:
        style_of = [plain] * len(rows)
    if column.formula is None and column.array_formula is None and isinstance(values, np.ndarray) and column.highlight is None:
        block = values[offset : offset + len(rows)]
        if block.dtype == np.float64 and np.isfinite(block).all():
            numbers = [text[:-2] if text.endswith(".0") else text for text in map(repr, block.tolist())]
            return [f'<c r="{letter}{r}"{plain}><v>{v}</v></c>' for r, v in zip(rows, numbers)]
    if column.formula is not None and isinstance(values, np.ndarray) and column.highlight is None:
        block = values[offset : offset + len(rows)]
        if np.isfinite(block).all():
            # the hot path (every model column): one f-string per cell, no per-value type checks
            parts = _escape(column.formula).split(excel.ROW)
            numbers = [text[:-2] if text.endswith(".0") else text for text in map(repr, block.tolist())]
            return [
                f'<c r="{letter}{r}"{plain}><f>{str(r + column.shift).join(parts)}</f><v>{v}</v></c>'
                for r, v in zip(rows, numbers)
            ]
    if column.formula is not None:
        parts = _escape(column.formula).split(excel.ROW)
        return [
            _formula_cell(f"{letter}{r}", s, str(r + column.shift).join(parts), v)
            for r, s, v in zip(rows, style_of, chunk)
        ]
    cells = [_value_cell(f"{letter}{r}", s, v) for r, s, v in zip(rows, style_of, chunk)]
    if column.array_formula is not None and offset == 0:
        cells[0] = _formula_cell(f"{letter}{rows[0]}", style_of[0], _escape(column.array_formula), chunk[0], column.array_ref)
    return cells


def write_sheet(worksheet: Any, sheet: Sheet, styles: dict[str, Any]) -> None:
    """Write every cell of `sheet` (headers, columns, single cells) into a constant_memory worksheet."""
    loose: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for column in sheet.columns:
        ref = f"{excel.column_letter(column.col)}{sheet.first_row - 1}"
        loose[sheet.first_row - 1].append((column.col, _value_cell(ref, _style(styles, "header"), column.header)))
    for single in sheet.cells:
        ref = f"{excel.column_letter(single.col)}{single.row}"
        style = _style(styles, single.style)
        xml = (
            _formula_cell(ref, style, _escape(single.formula), single.value)
            if single.formula is not None
            else _value_cell(ref, style, single.value)
        )
        loose[single.row].append((single.col, xml))

    columns = sorted(sheet.columns, key=lambda c: c.col)
    used_cols = [c.col for c in columns] + [col for cells in loose.values() for col, _ in cells]
    last_row = max([sheet.last_row if columns and sheet.n_rows else 0, *loose])
    # XlsxWriter's <dimension> and its "sheet has data" test come from these bounds
    worksheet._check_dimensions(min(loose) - 1 if loose else sheet.first_row - 1, min(used_cols))
    worksheet._check_dimensions(last_row - 1, max(used_cols))

    out = worksheet.fh
    for row in sorted(r for r in loose if r < sheet.first_row):
        out.write(_row(row, loose[row]))
    if columns and sheet.n_rows:
        for start in range(0, sheet.n_rows, CHUNK_ROWS):
            rows = range(sheet.first_row + start, sheet.first_row + min(start + CHUNK_ROWS, sheet.n_rows))
            rendered = [_column_cells(c, rows, start, styles) for c in columns]
            lines = []
            for i, row in enumerate(rows):
                if row in loose:
                    cells = [(c.col, cells[i]) for c, cells in zip(columns, rendered)] + loose[row]
                    lines.append(_row(row, cells))
                else:
                    lines.append(f'<row r="{row}">' + "".join(cells[i] for cells in rendered) + "</row>")
            out.write("".join(lines))
    for row in sorted(r for r in loose if r > sheet.last_row or not sheet.n_rows):
        if row >= sheet.first_row:
            out.write(_row(row, loose[row]))


def _row(row: int, cells: Iterable[tuple[int, str]]) -> str:
    ordered = sorted(cells, key=lambda item: item[0])
    columns = [col for col, _ in ordered]
    if len(set(columns)) != len(columns):
        raise ValueError(f"two cells written at the same place in row {row}")
    return f'<row r="{row}">' + "".join(xml for _, xml in ordered) + "</row>"
