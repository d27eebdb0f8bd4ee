"""Excel's vocabulary in one place: its function names, A1 references, string literals and the sheet limits.

Ops render their formulas with these pieces (formula text without the leading "="); `{r}` in a formula
stands for the row number of the cell it sits in (filled in per row when the sheet is written). Every
function here works in Excel 2007 and later with no `_xlfn.` prefix, and in LibreOffice, Gnumeric and HyperFormula.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any, Callable

from .errors import DataError, TitanicNNError

__all__ = [
    "MAX_ROWS", "MAX_COLUMNS", "MAX_FORMULA_CHARS", "MAX_CELL_CHARS", "MAX_LITERAL_CHARS", "ROW", "FUNCTIONS",
    "column_letter", "column_index", "cell", "absolute", "area", "on_sheet", "literal", "checked", "array_constant",
    "selection", "sub_columns",
    "escape_like", "escape_text", "unescape_text", "text_problem", "functions_called", "atom", "ones", "strip_outer", "Formula",
    "ABS", "AVERAGE", "AVERAGEIF", "CHAR", "COUNTIF", "EXACT", "EXP", "FIND", "IF", "IFERROR", "INDEX", "LEFT", "LEN", "LN", "LOG10", "MAX",
    "MID", "MIN", "MMULT", "OR", "SQRT", "SUM", "SUMPRODUCT", "TANH", "TRANSPOSE", "COS", "PI",
]

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_FORMULA_CHARS = 8_192
MAX_CELL_CHARS = 32_767
MAX_LITERAL_CHARS = 255  # a text constant in a formula, in Excel
ROW = "{r}"  # placeholder for the row number in a per-row formula template


# -- functions ---------------------------------------------------------------------------------------


def _function(name: str) -> Callable[..., str]:
    def call(*arguments: Any) -> str:
        return f"{name}({','.join(a if isinstance(a, str) else literal(a) for a in arguments)})"

    call.__name__ = call.__qualname__ = name
    return call


ABS = _function("ABS")
AVERAGE = _function("AVERAGE")
AVERAGEIF = _function("AVERAGEIF")  # Excel 2007's, so no _xlfn. prefix
COUNTIF = _function("COUNTIF")
EXACT = _function("EXACT")
EXP = _function("EXP")
CHAR = _function("CHAR")
CHOOSE = _function("CHOOSE")
COS = _function("COS")
FIND = _function("FIND")  # case-sensitive and without wildcards (SEARCH reads * and ? as wildcards)
IF = _function("IF")
IFERROR = _function("IFERROR")  # Excel 2007's, so no _xlfn. prefix
INDEX = _function("INDEX")
LEFT = _function("LEFT")
LEN = _function("LEN")
LN = _function("LN")
LOG10 = _function("LOG10")
MATCH = _function("MATCH")  # with 0, the first exact match
MAX = _function("MAX")
MID = _function("MID")
MIN = _function("MIN")
MMULT = _function("MMULT")
OR = _function("OR")
PI = _function("PI")
SUM = _function("SUM")
SQRT = _function("SQRT")
SUMPRODUCT = _function("SUMPRODUCT")
TANH = _function("TANH")
TRANSPOSE = _function("TRANSPOSE")

# Every function a workbook may call: a formula calling anything else is a bug (and may need `_xlfn.`).
FUNCTIONS = frozenset(
    f.__name__
    for f in (
        ABS, AVERAGE, AVERAGEIF, CHAR, CHOOSE, COS, COUNTIF, EXACT, EXP, FIND, IF, IFERROR, INDEX, LEFT, LEN, LN, LOG10,
        MATCH, MAX, MID, MIN, MMULT, OR, PI, SQRT, SUM, SUMPRODUCT, TANH, TRANSPOSE,
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


def strip_outer(expression: str) -> str:
    """`expression` without one pair of parentheses enclosing all of it (a cell's formula or a function's sole
    argument needs none)."""
    if expression.startswith("(") and _closes_at_end(expression, 0):
        return expression[1:-1]
    return expression


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
            "call (excel.FUNCTIONS); add it there only if Excel, LibreOffice, Gnumeric and HyperFormula all have it unprefixed"
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


def array_constant(grid: Any) -> str:
    """A 2-D grid of numbers as an array constant, {1,0;1,1}: its rows apart by ";", a row's values by ","."""
    return "{" + ";".join(",".join(number(v) for v in row) for row in grid) + "}"


def selection(n_in: int, columns: Any, width: int, at: int = 0) -> str:
    """The 0/1 array constant (n_in x width) that moves input column `columns[i]` to output column `at + i`, zeros
    elsewhere: MMULT by it picks, drops or shifts a block's columns, since Excel-family engines have no horizontal
    concatenation or column slice of an array expression that every one computes (Gnumeric and HyperFormula lack
    HSTACK). Each output value is one input value times 1 plus zeros, so it is the input exactly."""
    grid = [[0] * width for _ in range(n_in)]
    for i, column in enumerate(columns):
        grid[column][at + i] = 1
    return array_constant(grid)


_AREA = re.compile(r"((?:'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_]*)!)?\$([A-Z]{1,3})\$([0-9]+):\$([A-Z]{1,3})\$([0-9]+)")


def sub_columns(reference: str, first: int, count: int) -> str | None:
    """Columns first .. first + count - 1 (0-based, within it) of an absolute area such as `s!$B$4:$K$715`, as an area
    of their own; None when `reference` is not such an area (an expression's columns are picked by `selection`)."""
    match = _AREA.fullmatch(reference)
    if match is None:
        return None
    sheet, left, top, _, bottom = match.groups()
    start = column_index(left) + first
    return (sheet or "") + area(absolute(int(top), start), absolute(int(bottom), start + count - 1))


def number(value: float) -> str:
    """A number as a formula writes it: its shortest exact digits, positional, never an exponent (Excel writes
    1E-12, HyperFormula reads only 1e-12, Apache POI only 1E-12: 0.000000000001 is read alike by every one)."""
    text = format(Decimal(repr(float(value))), "f")
    return text[:-2] if text.endswith(".0") else text


def literal(value: Any) -> str:
    """A number unquoted, anything else as a quoted string with its quotes doubled.

    Text that holds a run like "_x0041_" is written as pieces joined by &, so that no reader takes the run for an
    escaped character (ECMA-376 reads "_xHHHH_" in formula text as the character HHHH; Gnumeric does, LibreOffice
    does not): "_x0041_" is written "_"&"x0041_". A carriage return is written CHAR(13): an XML reader turns a CR
    in a formula's text into a line feed. A double quote is written CHAR(34) (HyperFormula 3.5 does not read the doubled
    quote), and a long text in pieces of at most MAX_LITERAL_CHARS (Excel's limit on a text constant in a formula).
    """
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number(value)
    pieces = [piece for piece in _LITERAL_SPLIT.split(str(value)) if piece] or [""]
    quoted = []
    for piece in pieces:
        if piece in _CHARACTERS_BY_CODE:
            quoted.append(CHAR(_CHARACTERS_BY_CODE[piece]))
            continue
        # code points, each at most 2 UTF-16 units, so a piece stays within Excel's 255 units
        size = MAX_LITERAL_CHARS // 2
        quoted += ['"' + piece[i:i + size] + '"' for i in range(0, max(len(piece), 1), size)]
    return quoted[0] if len(quoted) == 1 else "(" + "&".join(quoted) + ")"


# -- text in cells -----------------------------------------------------------------------------------

# A cell's text is an ST_Xstring: "_xHHHH_" in it stands for the character HHHH. So a literal run that
# looks like one is written with its leading "_" escaped as "_x005F_", as Excel writes it.
_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# between the "_" and the "x" of such a run: where a formula's text literal is cut in two
_ESCAPE_SPLIT = r"(?<=_)(?=x[0-9A-Fa-f]{4}_)"
# where a formula's text literal is cut: there, and around each carriage return (kept as a piece of its own)
_LITERAL_SPLIT = re.compile(rf"{_ESCAPE_SPLIT}|(\r|\")")
# the characters a formula's literal writes as CHAR(code)
_CHARACTERS_BY_CODE = {"\r": 13, '"': 34}
# What XML 1.0 can hold: tab, line feed, carriage return, and the characters from U+0020 up, less the
# surrogates and U+FFFE/U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape_like(text: str) -> bool:
    """Whether `text` holds a run like "_x0041_", which readers of a cell's text take for an escaped character."""
    return "_x" in text and _ESCAPE_LIKE.search(text) is not None


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


# -- formulas as values: ops written with numpy's operators render into Excel text ---------------------


class Formula:
    """An Excel expression (text without the "=") standing for an array of `shape`, combined with Python's operators.

    Ops and losses are written once with numpy's operators (`x @ w`, `pred - y`, `out ** 2`, `x > 0`); given
    Formulas instead of arrays, the same code writes the formula that computes the same values, in the same
    order. Every +, -, *, / and comparison is parenthesised, so the sheet evaluates exactly the order Python
    does; a power is not (it binds tighter than all of them) unless it is the base of another power or is
    negated, where Excel's rules differ from Python's. `backend` (nn's Excel backend) gives what needs the
    data rows: a sum over them, and broadcasting over units.
    """

    __array_ufunc__ = None  # numpy's scalars and arrays defer to the reflected operators below

    def __init__(self, text: str, shape: tuple[Any, ...] = (), backend: Any = None, *, power: bool = False) -> None:
        self.text = text
        self.shape = tuple(shape)
        self.backend = backend
        self.power = power  # the text is a^b (safe inside +, -, *, / and comparisons only)

    def __repr__(self) -> str:
        return f"Formula({self.text!r}, shape={self.shape!r})"

    def __str__(self) -> str:
        return self.text

    @property
    def ndim(self) -> int:
        return len(self.shape)

    # -- building ---------------------------------------------------------------------------------------

    def _like(self, text: str, shape: tuple[Any, ...] | None = None, *, power: bool = False) -> "Formula":
        return Formula(text, self.shape if shape is None else shape, self.backend, power=power)

    @staticmethod
    def _literal(value: Any) -> str:
        if isinstance(value, Formula):
            return value.text
        if isinstance(value, (bool, int)) or float(value).is_integer() and abs(float(value)) < 2**53:
            return str(int(value))
        return number(value)

    def _binary(self, other: Any, op: str, reflected: bool = False) -> "Formula":
        left, right = (other, self) if reflected else (self, other)
        shape = _broadcast(_shape_of(left), _shape_of(right))
        return self._like(f"({_operand(left)}{op}{_operand(right)})", shape)

    def __add__(self, other: Any) -> "Formula":
        return self._binary(other, "+")

    def __radd__(self, other: Any) -> "Formula":
        return self._binary(other, "+", reflected=True)

    def __sub__(self, other: Any) -> "Formula":
        return self._binary(other, "-")

    def __rsub__(self, other: Any) -> "Formula":
        return self._binary(other, "-", reflected=True)

    def __mul__(self, other: Any) -> "Formula":
        return self._binary(other, "*")

    def __rmul__(self, other: Any) -> "Formula":
        return self._binary(other, "*", reflected=True)

    def __truediv__(self, other: Any) -> "Formula":
        return self._binary(other, "/")

    def __rtruediv__(self, other: Any) -> "Formula":
        return self._binary(other, "/", reflected=True)

    def __gt__(self, other: Any) -> "Formula":  # type: ignore[override]
        return self._binary(other, ">")

    def __lt__(self, other: Any) -> "Formula":  # type: ignore[override]
        return self._binary(other, "<")

    def __ge__(self, other: Any) -> "Formula":  # type: ignore[override]
        return self._binary(other, ">=")

    def __le__(self, other: Any) -> "Formula":  # type: ignore[override]
        return self._binary(other, "<=")

    def __and__(self, other: Any) -> "Formula":
        return self._binary(other, "*")  # both tests hold: the product of the two 0/1 values

    def __pow__(self, other: Any) -> "Formula":
        if isinstance(other, (int, float)) and not isinstance(other, bool) and other == 2:
            # a square as a product, as numpy and torch compute it (x*x, to the bit): LibreOffice's ^ gives #NUM! where
            # the result underflows, its * gives 0 as Python does
            return self._binary(self, "*")
        return self._like(f"{_base(self)}^{_base(other)}", power=True)

    def __neg__(self) -> "Formula":
        return self._like(f"(-{_base(self)})")

    def __abs__(self) -> "Formula":
        return self._like(ABS(strip_outer(self.text)))

    def __matmul__(self, other: "Formula") -> "Formula":
        return self._like(MMULT(self.text, other.text), (self.shape[0], other.shape[-1]))

    def __getitem__(self, index: Any) -> "Formula":
        """A new axis of length 1 (`x[..., None]`, `b[..., None, :]`): the same values, another shape; or some units of
        a block (`x[..., 0]`, a column; `g[..., 1:]`, `g[..., -k:]`), a product with a constant `selection`."""
        index = index if isinstance(index, tuple) else (index,)
        if index == (Ellipsis, None):
            return self._like(self.text, (*self.shape, 1))
        if index == (Ellipsis, None, slice(None)):
            return self._like(self.text, (*self.shape[:-1], 1, self.shape[-1]))
        if len(index) == 2 and index[0] is Ellipsis and self.ndim == 2 and isinstance(index[1], (int, slice)):
            units = self.shape[-1]
            if isinstance(index[1], int):
                kept, shape = [range(units)[index[1]]], self.shape[:-1]
            else:
                kept = list(range(units)[index[1]])
                shape = (*self.shape[:-1], len(kept))
                if kept == list(range(units)):
                    return self._like(self.text)
            return self._like(MMULT(self.text, selection(units, kept, len(kept))), shape)
        raise TypeError(f"a formula takes only a new axis of length 1 or some units of a block, not the index {index!r}")

    def swapaxes(self, first: int, second: int) -> "Formula":
        return self._like(TRANSPOSE(self.text), (*self.shape[:-2], self.shape[-1], self.shape[-2]))

    def sum(self, axis: int) -> "Formula":
        """The sum over units (the last axis of a 2-D block: a product with a column of ones), or over the data rows
        (the backend's, which keeps only the rows that train)."""
        if self.ndim == 2 and axis in (-1, 1):
            units = self.shape[-1]
            if units == 1:
                return self._like(self.text, self.shape[:-1])
            return self._like(MMULT(self.text, ones(units)), self.shape[:-1])
        return self.backend.sum_rows(self, axis)


def _shape_of(value: Any) -> tuple[Any, ...]:
    return value.shape if isinstance(value, Formula) else ()


def _broadcast(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    """numpy's broadcast of two shapes, a dimension of 1 taking the other's."""
    width = max(len(a), len(b))
    a, b = (1,) * (width - len(a)) + a, (1,) * (width - len(b)) + b
    return tuple(y if isinstance(x, int) and x == 1 else x for x, y in zip(a, b))


def _operand(value: Any) -> str:
    """An operand of +, -, *, / or a comparison: every such result is parenthesised already, and a power binds tighter."""
    return Formula._literal(value)


def _base(value: Any) -> str:
    """A base or exponent of ^, or the operand of a minus sign: a power in parentheses (Excel reads a^b^c as (a^b)^c and
    -a^2 as (-a)^2, Python otherwise), and a negative number too."""
    text = Formula._literal(value)
    if isinstance(value, Formula) and value.power or text.startswith("-"):
        return f"({text})"
    return text
