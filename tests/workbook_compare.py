"""Two workbooks compared for what matters, never their bytes: the same sheets, cells, formulas and defined names, and
every cached number within verify's tolerance (the last digits of a float depend on the machine's libraries)."""

from __future__ import annotations

import json
import math
from typing import Any

import openpyxl

from titanic_nn.engines import ATOL, RTOL
from titanic_nn.workbook import METADATA_SHEET

SHOWN = 5  # differences listed in a failure


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)


def _same_value(a: Any, b: Any) -> bool:
    """Numbers within the tolerance, anything else equal (a bool is not a number here)."""
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return _close(float(a), float(b))
    return type(a) is type(b) and a == b


def _same_json(a: Any, b: Any) -> bool:
    """JSON data alike but for float digits within the tolerance."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b))
    return _same_value(a, b)


def _formula(cell: Any) -> Any:
    value = cell.value
    if hasattr(value, "text"):  # an array formula: its text and the range it spans
        return ("array", value.text, value.ref)
    return value


def _names(book: Any) -> dict[str, str]:
    names = {name: str(defined.attr_text) for name, defined in book.defined_names.items()}
    for sheet in book.worksheets:
        names |= {f"{sheet.title}!{name}": str(defined.attr_text) for name, defined in sheet.defined_names.items()}
    return names


def _metadata(book: Any) -> Any:
    return json.loads("".join(str(row[0]) for row in book[METADATA_SHEET].iter_rows(values_only=True) if row[0] is not None))


def differences(expected_path: Any, got_path: Any, most: int = SHOWN) -> list[str]:
    """What differs between two workbooks, as short lines (empty: they agree), the first `most` of them."""
    formulas = [openpyxl.load_workbook(p) for p in (expected_path, got_path)]
    values = [openpyxl.load_workbook(p, data_only=True) for p in (expected_path, got_path)]
    found: list[str] = []
    if formulas[0].sheetnames != formulas[1].sheetnames:
        return [f"sheets {formulas[0].sheetnames} against {formulas[1].sheetnames}"]
    if _names(formulas[0]) != _names(formulas[1]):
        return [f"defined names differ: {sorted(set(_names(formulas[0]).items()) ^ set(_names(formulas[1]).items()))[:most]}"]
    for name in formulas[0].sheetnames:
        if name == METADATA_SHEET:
            if not _same_json(_metadata(values[0]), _metadata(values[1])):
                found.append(f"{name}: the description differs beyond float digits")
            continue
        sheets = [book[name] for book in formulas]
        cached = [book[name] for book in values]
        rows = max(s.max_row for s in sheets)
        cols = max(s.max_column for s in sheets)
        for row in range(1, rows + 1):
            for col in range(1, cols + 1):
                a, b = (_formula(s.cell(row, col)) for s in sheets)
                where = f"{name}!{sheets[0].cell(row, col).coordinate}"
                if not _same_value(a, b):  # a formula's text, or a value written as it is
                    found.append(f"{where}: {a!r} against {b!r}")
                    continue
                x, y = (s.cell(row, col).value for s in cached)
                if not _same_value(x, y):
                    found.append(f"{where}: cached {x!r} against {y!r}")
            if len(found) >= most:
                return found[:most]
    return found
