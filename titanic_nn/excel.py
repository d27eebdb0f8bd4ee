"""Excel's vocabulary in one place: every function name, A1 references, string literals and the sheet limits.

Each helper returns formula text without the leading "="; `{r}` in a returned template stands for the
row number of the cell the formula sits in (filled in per row when the sheet is written).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

__all__ = [
    "MAX_ROWS", "MAX_COLUMNS", "MAX_FORMULA_CHARS", "MAX_CELL_CHARS", "ROW",
    "column_letter", "column_index", "cell", "absolute", "area", "on_sheet", "literal",
    "sumproduct", "mmult", "relu", "sigmoid", "add", "total", "log_plus_one", "divide", "maximum",
    "max_or_one", "equals_level", "average", "accuracy", "squared_error", "log_loss", "survived",
]

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_FORMULA_CHARS = 8_192
MAX_CELL_CHARS = 32_767
ROW = "{r}"  # placeholder for the row number in a per-row formula template

# Up to this many units are added with "+" (the lesson's ReLU1+ReLU2); beyond it SUM keeps formulas short.
PLUS_UNITS = 8


# -- A1 addressing ---------------------------------------------------------------------------------


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    if not 0 <= index < MAX_COLUMNS:
        raise ValueError(f"column index {index} is outside Excel's {MAX_COLUMNS} columns")
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 0, the inverse of column_letter."""
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1


def cell(row: int | str, col: int, *, fixed_col: bool = False, fixed_row: bool = False) -> str:
    """The A1 reference of a 0-based column and a 1-based row (or the ROW placeholder)."""
    return f"{'$' if fixed_col else ''}{column_letter(col)}{'$' if fixed_row else ''}{row}"


def absolute(row: int, col: int) -> str:
    return cell(row, col, fixed_col=True, fixed_row=True)


def area(first: str, last: str) -> str:
    return first if first == last else f"{first}:{last}"


_PLAIN_SHEET = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOOKS_LIKE_CELL = re.compile(r"([A-Za-z]{1,3}[0-9]+|[RrCc][0-9]*([RrCc][0-9]*)?)")


def on_sheet(sheet: str | None, reference: str) -> str:
    """A reference qualified by its sheet, quoting the sheet name when Excel needs it."""
    if sheet is None:
        return reference
    if _PLAIN_SHEET.fullmatch(sheet) and not _LOOKS_LIKE_CELL.fullmatch(sheet):
        return f"{sheet}!{reference}"
    return "'" + sheet.replace("'", "''") + "'!" + reference


def literal(value: Any) -> str:
    """A number unquoted, anything else as a quoted string with its quotes doubled."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return '"' + str(value).replace('"', '""') + '"'


# -- the model's operations ------------------------------------------------------------------------


def sumproduct(inputs: str, weights: str) -> str:
    return f"SUMPRODUCT({inputs},{weights})"


def mmult(inputs: str, weights: str) -> str:
    return f"MMULT({inputs},{weights})"


def relu(x: str) -> str:
    return f"IF({x}<0,0,{x})"


def sigmoid(x: str) -> str:
    return f"1/(1+EXP(-{x}))"


def add(x: str, y: str) -> str:
    return f"{x}+{y}"


def total(references: Sequence[str], first: str, last: str) -> str:
    """The sum of a row's units: "A+B" for a few, SUM over the range for many."""
    if len(references) <= PLUS_UNITS:
        return "+".join(references)
    return f"SUM({first}:{last})"


# -- features --------------------------------------------------------------------------------------


def log_plus_one(x: str, base: str) -> str:
    """log(x+1), base "log10" or "ln"."""
    return {"log10": f"LOG10({x}+1)", "ln": f"LN({x}+1)"}[base]


def divide(x: str, divisor: str) -> str:
    return f"{x}/{divisor}"


def maximum(column: str) -> str:
    return f"MAX({column})"


def max_or_one(value: str) -> str:
    """The divisor when the training max is 0: 1, as the Python features use."""
    return f"IF({value}=0,1,{value})"


def equals_level(x: str, level: Any, *, exact: bool = False) -> str:
    """1 where the cell holds the level, else 0; EXACT when case must count (Excel's = ignores it)."""
    test = f"EXACT({x},{literal(level)})" if exact else f"{x}={literal(level)}"
    return f"IF({test},1,0)"


# -- losses and scores -----------------------------------------------------------------------------


def average(column: str) -> str:
    return f"AVERAGE({column})"


def squared_error(pred: str, target: str) -> str:
    return f"({pred}-{target})^2"


def log_loss(prob: str, target: str, eps: float) -> str:
    """Binary cross-entropy with the probability clipped to [eps, 1-eps], as metrics.log_loss clips."""
    clipped = f"MIN(MAX({prob},{eps!r}),1-{eps!r})"
    return f"-({target}*LN({clipped})+(1-{target})*LN(1-{clipped}))"


def accuracy(preds: str, targets: str, count: int) -> str:
    """The share of rows where (pred>0.5) agrees with target=1."""
    return f"SUMPRODUCT(--(({preds}>0.5)=({targets}=1)))/{count}"


def survived(pred: str) -> str:
    return f"IF({pred}>0.5,1,0)"
