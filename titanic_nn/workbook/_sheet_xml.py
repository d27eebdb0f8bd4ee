"""Writes a `Sheet` as OOXML rows straight into an XlsxWriter worksheet, fast enough for 100,000-row sheets.

XlsxWriter's write_formula costs tens of microseconds a cell (it rescans every formula for newer
functions); this writes the same <row>/<c> elements, a block of rows at a time, into the row buffer
XlsxWriter keeps in constant_memory mode. It relies on that mode's internals (`fh`,
`_check_dimensions`, `Format._get_xf_index`): XlsxWriter still writes everything around the rows
(styles, widths, panes, names, charts) and the rows it does not see are copied as they are.

Per-cell Python work is what a long sheet costs, so a block of rows is rendered column by column:
each column becomes a fragment of one row template (its letter, style and formula, with the row
number as "{0}") plus a list of per-row texts (its cached numbers, formatted a whole column at a time),
and every row is then a single `str.format` of that template. Cells that fit no template (blanks,
shifted formulas, array anchors, rows shared with single cells) are written one by one, as before.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Iterable, Iterator

import numpy as np

from .. import excel
from .._plain import cut
from ..errors import TitanicNNError
from ._cells import Column, Sheet

__all__ = ["write_sheet", "sheet_formulas", "CHUNK_ROWS"]

CHUNK_ROWS = 4096  # rows rendered at once: bounds memory whatever the sheet's length

# Whole numbers below this are written by str(int) (exact: float64 holds every integer up to 2**53).
_WHOLE_LIMIT = 2.0**53
# Whole numbers spanning at most this many values are looked up in a table of their texts.
_TABLE_SPAN = 1 << 16

def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape(text: str) -> str:
    """A cell's text as the XML of an ST_Xstring: Excel's "_x005F_" escape, and CR kept as a reference.

    (A raw CR would be read back as LF: XML parsers normalise line ends.) Characters XML cannot hold
    never get here: `written_frame` refuses them, naming the column and row.
    """
    return _xml(excel.escape_text(text)).replace("\r", "&#13;")


def _formula(text: str, where: str = "") -> str:
    """A formula's XML, the formula checked first (its length, the functions it calls); a refusal names `where`
    ("sheet linear, column Preds (R)") and shows the formula as its first row holds it.

    Formula text is not escaped the way a cell's text is (Excel and XlsxWriter agree), but a CR in a
    text literal (a level such as "a\\rb" compared in a dummy's IF) is kept as a reference, as in a cell's
    text: raw, XML parsers read it as LF and the literal would no longer equal the cell.
    """
    try:
        excel.checked(text.replace(excel.ROW, str(excel.MAX_ROWS)))  # a per-row template at its longest
    except TitanicNNError as exc:
        shown = str(exc).replace(str(excel.MAX_ROWS), "4")
        raise type(exc)(f"{where}: {shown}" if where else shown) from None
    return _xml(text).replace("\r", "&#13;")


def _number_text(value: Any) -> str | None:
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


def _number_texts(block: np.ndarray) -> list[str]:
    """`_number_text` of every value of a finite float64 array, without a Python call per whole number.

    repr gives the shortest text that reads back as the same float64, and only whole numbers end in
    ".0", so a fractional value's repr is used as it is, and whole ones (most feature cells: 0/1
    dummies, counts) come from str(int), through a table when their range is small.
    """
    integral = np.floor(block) == block
    if not integral.any():
        return list(map(repr, block.tolist()))
    # -0.0 keeps its sign ("-0") and huge whole numbers their exponent form: both through `_number_text`
    whole = integral & (np.abs(block) < _WHOLE_LIMIT) & ~((block == 0) & np.signbit(block))
    texts = np.empty(len(block), dtype=object)
    if whole.any():
        ints = block[whole].astype(np.int64)
        low, high = int(ints.min()), int(ints.max())
        if high - low < _TABLE_SPAN:
            table = np.array([str(i) for i in range(low, high + 1)], dtype=object)
            texts[whole] = table[ints - low]
        else:
            texts[whole] = list(map(str, ints.tolist()))
    fraction = ~integral
    if fraction.any():
        texts[fraction] = list(map(repr, block[fraction].tolist()))
    odd = integral & ~whole
    if odd.any():
        texts[odd] = [_number_text(v) for v in block[odd].tolist()]
    return texts.tolist()


def _style(styles: dict[str, Any], name: str | None) -> str:
    return "" if name is None else f' s="{styles[name]._get_xf_index()}"'


def _value_rest(style: str, value: Any) -> str | None:
    """A value cell's XML after its reference (style, type, content); None for a blank, which is left out."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        if excel.escape_like(value):
            # Excel and LibreOffice read "_x0041_" in a cell's text as "A" unless written "_x005F_x0041_", which
            # Gnumeric reads as it stands: the text is a formula of pieces no reader unescapes (as in a formula's
            # literal), caching the text as Excel writes it
            cached = _escape(value)
            return f'{style} t="str"><f>{_xml(excel.literal(value))}</f><v xml:space="preserve">{cached}</v></c>'
        space = ' xml:space="preserve"' if value != value.strip() or "\r" in value else ""
        return f'{style} t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>'
    text = _number_text(value)
    return None if text is None else f"{style}><v>{text}</v></c>"


def _value_cell(ref: str, style: str, value: Any) -> str:
    rest = _value_rest(style, value)
    return "" if rest is None else f'<c r="{ref}"{rest}'


def _formula_rest(style: str, formula: str, value: Any, array_ref: str | None = None) -> str:
    """A formula cell's XML after its reference: style, type, the (escaped) formula and its cached value."""
    kind = "" if array_ref is None else f' t="array" ref="{array_ref}"'
    if isinstance(value, str):
        return f'{style} t="str"><f{kind}>{formula}</f><v>{_escape(value)}</v></c>'
    text = None if value is None else _number_text(value)
    cached = "" if text is None else f"<v>{text}</v>"
    return f"{style}><f{kind}>{formula}</f>{cached}</c>"


def _formula_cell(ref: str, style: str, formula: str, value: Any, array_ref: str | None = None) -> str:
    return f'<c r="{ref}"' + _formula_rest(style, formula, value, array_ref)


class _ColumnXml:
    """One column's cells: its letter, styles and formula prepared once for the whole sheet."""

    def __init__(self, column: Column, styles: dict[str, Any], sheet_name: str = "") -> None:
        self.column = column
        self.letter = excel.column_letter(column.col)
        self.plain = _style(styles, column.style)
        self.marked = _style(styles, "filled")
        where = f"sheet {sheet_name}, column {cut(str(column.header))} ({self.letter})"
        self.parts = None if column.formula is None else _formula(column.formula, where).split(excel.ROW)
        # a filled raw cell refers to its fill value's cell
        self.fill = None if column.fill_formula is None else _formula(column.fill_formula, where)
        self.array = None if column.array_formula is None else _formula(column.array_formula, where)

    def cell(self, row: int, index: int) -> str:
        """The XML of the cell in `row` (1-based), the column's value `index`; "" for a blank value cell."""
        column = self.column
        ref = f"{self.letter}{row}"
        value = None if column.values is None else column.values[index]
        marked = column.highlight is not None and bool(column.highlight[index])
        style = self.marked if marked else self.plain
        if marked and self.fill is not None:
            # a fill by a group reads the row's group cell: its formula names the row
            return _formula_cell(ref, style, self.fill.replace(excel.ROW, str(row + column.shift)), value)
        if self.parts is not None:
            # a formula over whole columns is a one-cell array formula, so every engine evaluates it over the ranges
            own = ref if column.array_cells else None
            return _formula_cell(ref, style, str(row + column.shift).join(self.parts), value, own)
        if column.array_formula is not None and index == 0:
            return _formula_cell(ref, style, self.array, value, column.array_ref)
        return _value_cell(ref, style, value)

    def fragment(self, rows: range, offset: int, slot: int) -> tuple[str, list[list[str]]]:
        """This column's part of the row template for `rows` (values from `offset`), and the texts filling its slots.

        Slots are numbered from `slot`; "{0}" is the row number. Literal braces are doubled for str.format.
        """
        column = self.column
        stop = offset + len(rows)
        block = None if column.values is None else column.values[offset:stop]
        flags = None if column.highlight is None else column.highlight[offset:stop]
        ref = f'<c r="{self.letter}{{0}}"'
        if column.array_cells or (self.fill is not None and excel.ROW in self.fill and flags is not None and flags.any()):
            return f"{{{slot}}}", [[self.cell(row, offset + i) for i, row in enumerate(rows)]]  # filled cells name their row
        numeric = isinstance(block, np.ndarray) and block.dtype == np.float64 and bool(np.isfinite(block).all())
        if numeric and (self.parts is None or column.shift == 0):
            slots = []
            if flags is None:
                style = self.plain
            else:
                style = f"{{{slot}}}"
                slots.append(np.where(flags, self.marked, self.plain).tolist())
            if self.parts is not None:
                formula = "<f>" + "{0}".join(_braced(p) for p in self.parts) + "</f>"
            elif flags is not None and self.fill is not None:
                formula = f"{{{slot + len(slots)}}}"
                slots.append(np.where(flags, f"<f>{self.fill}</f>", "").tolist())
            else:
                formula = ""
            slots.append(_number_texts(block))
            return f"{ref}{style}>{formula}<v>{{{slot + len(slots) - 1}}}</v></c>", slots
        if block is not None and self.parts is None:
            rests = _value_rests(block, flags, self.plain, self.marked, self.fill)
            if rests is not None:
                return f"{ref}{{{slot}}}", [rests]
        return f"{{{slot}}}", [[self.cell(row, offset + i) for i, row in enumerate(rows)]]


def _braced(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _value_rests(block: Any, flags: Any, plain: str, marked: str, fill: str | None = None) -> list[str] | None:
    """`_value_rest` of each value (`fill`'s formula where marked), once per distinct text or integer; None for a blank."""
    # raw columns repeat a few levels, so each is rendered once; floats are not cached, since 0.0 == -0.0
    # would share a key (and text) though their texts differ
    seen: dict[tuple[Any, bool], str] = {}
    rests = []
    marks = [False] * len(block) if flags is None else flags.tolist()
    for value, mark in zip(block.tolist() if isinstance(block, np.ndarray) else block, marks):
        kind = type(value)
        rest = seen.get((value, mark)) if kind is str or kind is int else None
        if rest is None:
            rest = _formula_rest(marked, fill, value) if mark and fill is not None else _value_rest(marked if mark else plain, value)
            if rest is None:
                return None
            if kind is str or kind is int:
                seen[(value, mark)] = rest
        rests.append(rest)
    return rests


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
            _formula_cell(ref, style, _formula(single.formula, f"sheet {sheet.name}, cell {ref}"), single.value, single.array_ref)
            if single.formula is not None
            else _value_cell(ref, style, single.value)
        )
        loose[single.row].append((single.col, xml))

    for block in sheet.blocks:
        for row, col, xml in _block_rows(block, styles):
            loose[row].append((col, xml))

    columns = [_ColumnXml(c, styles, sheet.name) for c in sorted(sheet.columns, key=lambda c: c.col)]
    used_cols = [c.column.col for c in columns] + [col for cells in loose.values() for col, _ in cells]
    used_cols += [block.right for block in sheet.blocks]
    last_row = max([sheet.last_row if columns and sheet.n_rows else 0, *loose])
    # XlsxWriter's <dimension> and its "sheet has data" test come from these bounds
    worksheet._check_dimensions(min(loose) - 1 if loose else sheet.first_row - 1, min(used_cols))
    worksheet._check_dimensions(last_row - 1, max(used_cols))

    # rows written one cell at a time: those shared with single cells, and the array formulas' anchor row
    special = set(loose)
    if any(c.column.array_formula is not None for c in columns):
        special.add(sheet.first_row)

    out = worksheet.fh
    for row in sorted(r for r in loose if r < sheet.first_row):
        out.write(_row(row, loose[row]))
    if columns and sheet.n_rows:
        for start in range(0, sheet.n_rows, CHUNK_ROWS):
            rows = range(sheet.first_row + start, sheet.first_row + min(start + CHUNK_ROWS, sheet.n_rows))
            out.write(_render_rows(columns, rows, start, loose, special))
    for row in sorted(r for r in loose if r > sheet.last_row or not sheet.n_rows):
        if row >= sheet.first_row:
            out.write(_row(row, loose[row]))


def sheet_formulas(sheet: Sheet) -> Iterator[tuple[int, int, str]]:
    """(row 1-based, column 0-based, formula without "=") of every cell `write_sheet` writes as a formula: what a
    workbook must still hold there for its cached values to be the formulas' (verify reads them back). Text that
    looks like an escape is written as a formula too (`_value_rest`), so its cells are here."""

    def text_formula(value: Any) -> str | None:
        return excel.literal(value) if isinstance(value, str) and excel.escape_like(value) else None

    for column in sheet.columns:
        header = text_formula(column.header)
        if header is not None:
            yield sheet.first_row - 1, column.col, header
        for index in range(sheet.n_rows):
            row = sheet.first_row + index
            marked = column.highlight is not None and bool(column.highlight[index])
            if marked and column.fill_formula is not None:
                yield row, column.col, column.fill_formula.replace(excel.ROW, str(row + column.shift))
            elif column.formula is not None:
                yield row, column.col, column.formula.replace(excel.ROW, str(row + column.shift))
            elif column.array_formula is not None and index == 0:
                yield row, column.col, column.array_formula
            elif column.array_formula is None and column.values is not None:
                text = text_formula(column.values[index])
                if text is not None:
                    yield row, column.col, text
    for single in sheet.cells:
        if single.formula is not None:
            yield single.row, single.col, single.formula
        elif (text := text_formula(single.value)) is not None:
            yield single.row, single.col, text
    for block in sheet.blocks:
        rows, cols = block.values.shape
        if block.copy_of is not None:
            for i in range(rows):
                for j in range(cols):
                    yield block.top + i, block.left + j, excel.absolute(block.copy_of[0] + i, block.copy_of[1] + j)
        elif block.formula is not None:
            yield block.top, block.left, block.formula


def _block_rows(block: Any, styles: dict[str, Any]) -> list[tuple[int, int, str]]:
    """(row, first column, XML) of each row of an array formula's block: its anchor holds the formula."""
    rows, cols = block.values.shape
    style = _style(styles, block.style)
    flat = block.values.reshape(-1)
    texts = _number_texts(flat) if np.isfinite(flat).all() else [_number_text(v) for v in flat.tolist()]
    letters = [excel.column_letter(block.left + j) for j in range(cols)]
    ref = f"{letters[0]}{block.top}:{letters[-1]}{block.bottom}" if (rows, cols) != (1, 1) else f"{letters[0]}{block.top}"
    out = []
    for i in range(rows):
        row = block.top + i
        cells = []
        for j in range(cols):
            text = texts[i * cols + j]
            cached = "" if text is None else f"<v>{text}</v>"  # a value no cell can hold is left to the engine
            if block.copy_of is not None:  # a reference to the same place of the block copied
                source = excel.absolute(block.copy_of[0] + i, block.copy_of[1] + j)
                cells.append(f'<c r="{letters[j]}{row}"{style}><f>{_formula(source)}</f>{cached}</c>')
            elif i == 0 and j == 0:
                formula = _formula(block.formula)
                cells.append(f'<c r="{letters[0]}{row}"{style}><f t="array" ref="{ref}">{formula}</f>{cached}</c>')
            elif cached:
                cells.append(f'<c r="{letters[j]}{row}"{style}>{cached}</c>')
            else:
                cells.append(f'<c r="{letters[j]}{row}"{style}/>')
        out.append((row, block.left, "".join(cells)))
    return out


def _render_rows(
    columns: list[_ColumnXml], rows: range, offset: int, loose: dict[int, list[tuple[int, str]]], special: set[int]
) -> str:
    """The XML of `rows` (values from `offset`): one template per block, special rows cell by cell."""
    pieces, slots = ['<row r="{0}">'], []
    for column in columns:
        piece, texts = column.fragment(rows, offset, len(slots) + 1)
        pieces.append(piece)
        slots += texts
    pieces.append("</row>")
    template = "".join(pieces).format
    lines = []
    for i, (row, texts) in enumerate(zip(rows, zip(*slots))):
        if row in special:
            cells = [(c.column.col, c.cell(row, offset + i)) for c in columns] + loose.get(row, [])
            lines.append(_row(row, cells))
        else:
            lines.append(template(str(row), *texts))
    return "".join(lines)


def _row(row: int, cells: Iterable[tuple[int, str]]) -> str:
    ordered = sorted(cells, key=lambda item: item[0])
    columns = [col for col, _ in ordered]
    if len(set(columns)) != len(columns):
        raise ValueError(f"two cells written at the same place in row {row}")
    return f'<row r="{row}">' + "".join(xml for _, xml in ordered) + "</row>"
