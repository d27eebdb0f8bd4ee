"""Excel's vocabulary in one place: its function names, A1 references, string literals and the sheet limits.

Ops render their formulas with these pieces (formula text without the leading "="); `{r}` in a formula
stands for the row number of the cell it sits in (filled in per row when the sheet is written). Every
function here works in Excel 2007 and later with no `_xlfn.` prefix, and in LibreOffice and Gnumeric.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

from .errors import DataError, TitanicNNError

__all__ = [
    "MAX_ROWS", "MAX_COLUMNS", "MAX_FORMULA_CHARS", "MAX_CELL_CHARS", "ROW", "FUNCTIONS",
    "column_letter", "column_index", "cell", "absolute", "area", "on_sheet", "literal", "checked",
    "escape_text", "unescape_text", "text_problem", "functions_called", "atom", "ones",
    "AVERAGE", "AVERAGEIF", "COUNTIF", "EXACT", "EXP", "FIND", "IF", "IFERROR", "LEFT", "LEN", "LN", "LOG10", "MAX",
    "MID", "MIN", "MMULT", "OR", "ROW_NUMBERS", "SQRT", "SUM", "SUMPRODUCT", "TANH", "TRANSPOSE",
]

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_FORMULA_CHARS = 8_192
MAX_CELL_CHARS = 32_767
ROW = "{r}"  # placeholder for the row number in a per-row formula template


# -- functions ---------------------------------------------------------------------------------------


def _function(name: str) -> Callable[..., str]:
    def call(*arguments: Any) -> str:
        return f"{name}({','.join(a if isinstance(a, str) else literal(a) for a in arguments)})"

    call.__name__ = call.__qualname__ = name
    return call


AVERAGE = _function("AVERAGE")
AVERAGEIF = _function("AVERAGEIF")  # Excel 2007's, so no _xlfn. prefix
COUNTIF = _function("COUNTIF")
EXACT = _function("EXACT")
EXP = _function("EXP")
FIND = _function("FIND")  # case-sensitive and without wildcards (SEARCH reads * and ? as wildcards)
IF = _function("IF")
IFERROR = _function("IFERROR")  # Excel 2007's, so no _xlfn. prefix
LEFT = _function("LEFT")
LEN = _function("LEN")
LN = _function("LN")
LOG10 = _function("LOG10")
MAX = _function("MAX")
MID = _function("MID")
MIN = _function("MIN")
MMULT = _function("MMULT")
OR = _function("OR")
SUM = _function("SUM")
ROW_NUMBERS = _function("ROW")  # Excel's ROW (the name ROW is the row placeholder above)
SQRT = _function("SQRT")
SUMPRODUCT = _function("SUMPRODUCT")
TANH = _function("TANH")
TRANSPOSE = _function("TRANSPOSE")

# Every function a workbook may call: a formula calling anything else is a bug (and may need `_xlfn.`).
FUNCTIONS = frozenset(
    f.__name__
    for f in (
        AVERAGE, AVERAGEIF, COUNTIF, EXACT, EXP, FIND, IF, IFERROR, LEFT, LEN, LN, LOG10, MAX, MID, MIN, MMULT, OR,
        ROW_NUMBERS, SQRT, SUM, SUMPRODUCT, TANH, TRANSPOSE,
    )
)


_QUOTED = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'')  # text literals and quoted sheet names
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")


def functions_called(formula: str) -> set[str]:
    """The names of the functions a formula calls (text literals and quoted sheet names aside)."""
    return set(_CALL.findall(_QUOTED.sub('""', formula)))


# a reference, its row a number or the per-row placeholder {r}
_REFERENCE = re.compile(
    r"(?:'[^']*'!|[A-Za-z_][A-Za-z0-9_]*!)?\$?[A-Z]{1,3}\$?(?:[0-9]+|\{r\})(?::\$?[A-Z]{1,3}\$?(?:[0-9]+|\{r\}))?"
)
_NUMBER = re.compile(r"-?[0-9.]+(?:[eE][-+]?[0-9]+)?")


def atom(expression: str) -> str:
    """`expression` safe to combine with any operator: as it is when it is a reference, a number or one
    function call, else in parentheses."""
    if _REFERENCE.fullmatch(expression) or _NUMBER.fullmatch(expression):
        return expression
    call = _CALL.match(expression)
    if call and expression.endswith(")") and _closes_at_end(expression, call.end() - 1):
        return expression
    if expression.startswith("(") and _closes_at_end(expression, 0):
        return expression
    return f"({expression})"


def _closes_at_end(expression: str, opening: int) -> bool:
    """Whether the parenthesis at `opening` closes at the last character (text literals aside)."""
    depth, quoted = 0, False
    for position in range(opening, len(expression)):
        char = expression[position]
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return position == len(expression) - 1
    return False


def ones(count: int, *, row: bool = False) -> str:
    """An array constant of `count` ones: a column {1;1} (or a row {1,1})."""
    return "{" + ("," if row else ";").join(["1"] * count) + "}"


def checked(formula: str) -> str:
    """The formula, or a TitanicNNError when it is longer than Excel accepts or calls a function not in FUNCTIONS."""
    if len(formula) + 1 > MAX_FORMULA_CHARS:
        raise TitanicNNError(
            f"a formula of {len(formula)} characters exceeds Excel's limit of {MAX_FORMULA_CHARS}: {formula[:80]}..."
        )
    unknown = functions_called(formula) - FUNCTIONS
    if unknown:
        raise TitanicNNError(
            f"the formula {formula[:80]} calls {', '.join(sorted(unknown))}, not among the functions a workbook may "
            "call (excel.FUNCTIONS); add it there only if Excel, LibreOffice and Gnumeric all have it unprefixed"
        )
    return formula


# -- A1 addressing ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    if not 0 <= index < MAX_COLUMNS:
        # a DataError (a ValueError): a model too wide for a sheet is the user's to fix, not a crash
        raise DataError(
            f"a sheet would need column {index + 1:,}, beyond Excel's {MAX_COLUMNS:,}; use a narrower model "
            "(fewer hidden units or features)"
        )
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


# -- text in cells -----------------------------------------------------------------------------------

# A cell's text is an ST_Xstring: "_xHHHH_" in it stands for the character HHHH. So a literal run that
# looks like one is written with its leading "_" escaped as "_x005F_", as Excel writes it.
_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# What XML 1.0 can hold: tab, line feed, carriage return, and the characters from U+0020 up, less the
# surrogates and U+FFFE/U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape_text(text: str) -> str:
    """A cell's text as Excel writes it: each "_" that starts an "_xHHHH_" written "_x005F_"."""
    return _ESCAPE_LIKE.sub("_x005F_", text)


def unescape_text(text: str) -> str:
    """The inverse of `escape_text`, as Excel reads a cell's text: each "_xHHHH_" is the character HHHH."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def text_problem(text: str) -> str | None:
    """Why a cell cannot hold `text` (None when it can): a character XML 1.0 forbids, or too many characters."""
    bad = _NOT_XML.search(text)
    if bad is not None:
        return f"the character U+{ord(bad.group()):04X}, which XML 1.0 and so an .xlsx file cannot hold"
    if len(text) > MAX_CELL_CHARS:
        return f"{len(text):,} characters, more than the {MAX_CELL_CHARS:,} an Excel cell holds"
    return None
