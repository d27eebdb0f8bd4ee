"""The feature vocabulary: each op's pandas/numpy evaluation, the statistic it learns, and its Excel formula, side by side.

A schema compiles to a program of these ops (features/_program.py). Every op reads named columns of
a `Rows` table and makes named columns; what it learns from training rows (a max, a mode, the
levels of a column) it holds as its statistic, and the workbook writes that statistic in a cell its
formulas refer to. A new feature op is one class here: `fit`, `apply`, `excel` (and `statistic`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Protocol, Sequence

import numpy as np
import pandas as pd

from .. import excel
from .._plain import python_scalar as plain
from .._plain import cut, shown
from ..errors import DataError, UnseenLevelWarning

__all__ = [
    "Rows", "FeatureOp", "Fill", "GroupFill", "Raw", "Log", "Scale", "Dummies", "Codes", "Constant", "embedding_width", "RenderContext", "SheetColumns",
    "mode", "text_of", "key_of", "excel_equals", "number_text_problem", "equal_to_15_digits_only", "refuse_equal_to_15_digits_only", "FILLS", "TEXT", "NUMBER", "MAX_NESTED_IFS",
]

# A column's kind, where it is not a number: TEXT columns hold exact text (a blank is ""), as the derived columns
# that extract, map or join text make them, the raw columns only they read, and every categorical column: text
# is compared as text, with EXACT on the sheet (Excel's = ignores case, and LibreOffice's = on numbers 15 digits).
TEXT = "text"
# A column of numbers: compared as numbers, computed with.
NUMBER = "number"
# How a blank is filled: the training mode (the lesson's) or median of the non-blank values.
FILLS = ("mode", "median")
# Excel nests at most 64 functions; a lookup written as nested IFs stays well under that.
MAX_NESTED_IFS = 60


def text_of(value: Any) -> str:
    """A value as the sheet holds it in a text column: the file's text as it is; a number (from a DataFrame) as its
    shortest text, "" for a blank, 3 for 3.0, 7.25 for 7.25, 0.30000000000000004 in full. The sheet writes that
    text, so every engine reads exactly the text Python compares (never a number a spreadsheet shows at 15 digits).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)
    return str(value)


def number_text_problem(value: Any) -> str | None:
    """Why a spreadsheet's text of the number `value` (`A4&""`) may differ from Python's `text_of` (None when every
    engine writes the same text): more than 15 significant digits, which it rounds, or a size it writes with an
    exponent, which each engine spells its own way."""
    number = float(value)
    if number == 0 or not math.isfinite(number):
        return None
    if not 1e-4 <= abs(number) < 1e15:
        return "a number a spreadsheet writes as text with an exponent, each engine its own way"
    digits = repr(abs(number)).split("e")[0].replace(".", "").strip("0")
    if len(digits) > 15:
        return "a number of more than 15 significant digits, which a spreadsheet's text of it rounds"
    return None


def equal_to_15_digits_only(numbers: Any, wanted: float) -> np.ndarray:
    """True where a number differs from `wanted` only beyond 15 significant digits: LibreOffice's `=` takes the two
    as equal (it compares to about 15 digits), Python and the other engines as different."""
    numbers = np.asarray(numbers, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        near = np.abs(numbers - wanted) <= 1e-14 * np.maximum(np.abs(numbers), abs(wanted))
    return near & (numbers != wanted)


def refuse_equal_to_15_digits_only(
    numbers: Any, wanted: float, *, holder: str, locate: Callable[[int], str], against: str, fix: str
) -> None:
    """A DataError naming the first of `numbers` that differs from `wanted` only beyond 15 significant digits (which
    LibreOffice's `=` takes as equal): "{holder} holds X on {locate(i)}, equal to {against} Y in 15 ...; {fix}"."""
    numbers = np.asarray(numbers, dtype=np.float64)
    near = equal_to_15_digits_only(numbers, wanted)
    if near.any():
        first = int(near.argmax())
        raise DataError(
            f"{holder} holds {shown(numbers[first])} on {locate(first)}, equal to {against}{shown(wanted)} in 15 "
            f"significant digits but not exactly, which spreadsheets take as equal; {fix}"
        )


def key_of(value: Any, kind: str | None) -> Any:
    """The key a column's value is compared by: its exact text in a TEXT column, else the number it is."""
    return text_of(value) if kind == TEXT else float(value)


def excel_equals(x: str, key: Any) -> str:
    """Excel's test that cell `x` holds `key`: EXACT for text (Excel's = ignores case), `x=3` for a number."""
    if isinstance(key, str):
        return excel.EXACT(x, excel.literal(key))
    return f"{x}={excel.literal(key)}"


def mode(values: pd.Series, *, fallback: Any) -> Any:
    """The most common value (the smallest on a tie); `fallback` when the column is entirely blank."""
    modes = values.dropna().mode()
    return plain(modes.iloc[0]) if len(modes) else fallback


@dataclass
class Rows:
    """The columns a program reads and writes, all of one length, with what messages need to name a row.

    `source` names the data in messages ("training data"); `describe(i)` names row position i, e.g.
    "row 3 (PassengerId 3)". `kinds` marks the TEXT columns. `target` is the 0/1 target when the rows
    have one; `training` is True when these are the training rows the statistics are (or were) learned
    from, so an op that learns from the target leaves each row's own label out. `unlabelled` holds the
    columns of the unlabelled rows given to fit (the test rows), which an op may count.
    """

    columns: dict[str, pd.Series]
    source: str
    describe: Callable[[int], str]
    kinds: dict[str, str] = field(default_factory=dict)
    target: pd.Series | None = None
    training: bool = False
    unlabelled: "Rows | None" = None

    def __getitem__(self, name: str) -> pd.Series:
        return self.columns[name]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


class SheetColumns(Protocol):
    """What an op reading whole columns may ask of the sheet it is rendered on (the workbook implements it).

    The training rows sit on a model sheet, the test rows on the test sheet; `training` says which
    rows this sheet holds.
    """

    training: bool

    def column(self, name: str, rows: str = "train") -> str | None:
        """The absolute range of column `name` over the training ("train") or test ("test") rows; None where the
        workbook has no test rows."""

    def target(self) -> str:
        """This row's target as 0/1 (training rows only)."""

    def targets(self) -> str:
        """The training rows' targets as 0/1, as an array expression over the model sheet's target column."""


@dataclass
class RenderContext:
    """What an op's Excel text may refer to: its statistic's cell, the sheet's whole columns (`sheet`), and the
    cells of a table statistic (`table`: key -> reference, with the key None for the value of every other key)."""

    statistic: str | None = None
    sheet: SheetColumns | None = None
    table: Mapping[Any, str] | None = None
    levels: str | None = None  # the range of an embedding table's level texts, which a level's number is found in


class FeatureOp:
    """One step of a feature program: columns made from columns, with the statistic it learned.

    `inputs` are the columns it reads and `outputs` those it makes. An `in_place` op rewrites its
    input column (a fill: on the sheet, the filled cells of the raw column refer to its statistic).
    A `monotone` op of one input rises with it, so the max of its output is the op applied to the max.
    A `passthrough` op's output is its input unchanged: the sheet uses the raw column as the feature.
    A `whole_columns` op reads every row of a column (a count, a group's rate): its formulas need
    `RenderContext.sheet` and are array formulas. `key` names its statistic in `Features.to_dict()`,
    and `STATE` the section it goes in. `output_kind` is TEXT for an op whose outputs are text. A
    `placed` op (a derived column) gets a sheet column of its own for each output, which later formulas
    refer to, where the outputs of other ops are written into the formulas that use them.
    """

    in_place: ClassVar[bool] = False
    monotone: ClassVar[bool] = False
    passthrough: ClassVar[bool] = False
    whole_columns: ClassVar[bool] = False
    placed: ClassVar[bool] = False
    output_kind: ClassVar[str | None] = None
    STATE: ClassVar[tuple[str, ...]] = ()
    array_cells: ClassVar[bool] = False  # each formula a one-cell array formula (it compares a whole range)

    # Most ops read one `column` and make one `output` (their own column when in place); others
    # (no input, or several outputs) say so themselves.
    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.column,)  # type: ignore[attr-defined]

    @property
    def outputs(self) -> tuple[str, ...]:
        return (getattr(self, "output", self.column),)  # type: ignore[attr-defined]

    @property
    def key(self) -> str:
        return self.inputs[0]

    def fit(self, rows: Rows) -> None:
        """Learn the statistic from training rows (the default: nothing to learn)."""

    def apply(self, rows: Rows) -> list[Any]:
        """The output columns, in `outputs` order (pandas Series or float64 arrays)."""
        raise NotImplementedError

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        """Each output's per-row formula from its inputs' references (None: a constant value, not a formula)."""
        raise NotImplementedError

    # -- the statistic, as the sheet holds it ----------------------------------------------------

    def statistic(self) -> Any:
        """The learned value the sheet writes in a cell (None: the op has none)."""
        return None

    def table(self) -> tuple[str, list[tuple[Any, Any]], Any] | None:
        """A statistic of many values, as the sheet lays it out: (title, [(key, value), ...], the value of every
        other key); None when the op has none."""
        return None

    def excel_statistic(self, of_input: Callable[[Callable[[str], str]], str]) -> str | None:
        """The formula of the statistic's cell (None: the value is written as it is).

        `of_input(f)` renders the op's input with `f` applied to the whole raw column it comes from.
        """
        return None

    def state(self) -> dict[str, Any]:
        """The learned statistic by `STATE` section, as plain JSON-able values."""
        return {}

    def load(self, state: Mapping[str, Any]) -> None:
        """Set the statistic from `state()`'s values."""


@dataclass
class Fill(FeatureOp):
    """A blank cell takes the column's training mode (`how="median"`: its median; `fallback` when every training
    value is blank).

    A categorical column's fill is a level: its cell holds the level's text, as the sheet holds levels, and a
    column blank in every training row, with no fallback, is refused.
    """

    column: str
    fallback: Any = 0.0
    categorical: bool = False
    value: Any = None
    how: str = "mode"

    in_place: ClassVar[bool] = True
    STATE: ClassVar[tuple[str, ...]] = ("fill_values",)

    def fit(self, rows: Rows) -> None:
        if self.how == "median":
            values = rows[self.column].dropna()
            self.value = float(np.median(values.to_numpy(dtype=np.float64))) if len(values) else self.fallback
        else:
            values = rows[self.column]
            # a level is its text: counted, and a tie broken, as text
            self.value = mode(values.dropna().map(text_of) if self.categorical else values, fallback=self.fallback)
        if self.value is None:
            raise DataError(
                f"{rows.source}: column {self.column} is blank in every row, so it has no level to fill a blank "
                "with; drop it from the schema or name its levels"
            )

    def apply(self, rows: Rows) -> list[Any]:
        values = rows[self.column]
        if isinstance(self.value, str) and values.dtype != object and values.isna().any():
            values = values.astype(object)  # text filled into a column read as numbers (all blank, say)
        return [values.fillna(self.value)]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        return [context.statistic]  # a filled cell is a reference to the fill value's cell

    def statistic(self) -> Any:
        return self.value

    def state(self) -> dict[str, Any]:
        return {"fill_values": plain(self.value)}

    def load(self, state: Mapping[str, Any]) -> None:
        value = state["fill_values"]
        self.value = text_of(value) if self.categorical and value is not None else value


@dataclass
class GroupFill(FeatureOp):
    """A blank cell takes the training median (or mode) of its group: the rows holding the same value of column `by`.

    Kaggle's Age by Title. A group with no training value, or a value of `by` training never saw,
    takes the column's median (or mode) over every training row, `fallback`. On the sheet each group's
    value is a cell of a table below the parameters, and a filled cell looks its group up in it with
    nested IFs (exact, where Excel's MATCH and VLOOKUP would read * and ? in a key as wildcards).
    """

    column: str
    by: str
    how: str = "median"
    by_kind: str | None = None
    values: dict[Any, float] = field(default_factory=dict)
    fallback: float | None = None

    in_place: ClassVar[bool] = True
    STATE: ClassVar[tuple[str, ...]] = ("group_fills",)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.column, self.by)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.column,)

    def _summary(self, values: pd.Series) -> float | None:
        values = values.dropna()
        if not len(values):
            return None
        if self.how == "median":
            return float(np.median(values.to_numpy(dtype=np.float64)))
        return float(mode(values, fallback=None))

    def fit(self, rows: Rows) -> None:
        values = rows[self.column]
        keys = rows[self.by].map(lambda v: key_of(v, self.by_kind))
        self.fallback = self._summary(values)
        if self.fallback is None:
            raise DataError(f"{rows.source}: column {self.column} is blank in every row, so it has no {self.how} to fill a blank with")
        if self.by_kind != TEXT:
            self._check_near(keys.dropna().unique(), keys, rows)
        found = {}
        for key, group in values.groupby(keys.to_numpy(), sort=False):
            summary = self._summary(group)
            if summary is not None:
                found[plain(key)] = summary
        if len(found) > MAX_NESTED_IFS:
            raise DataError(
                f"{rows.source}: column {self.column} is filled by the {self.how} of each {self.by}, but {self.by} has "
                f"{len(found)} levels, more than the {MAX_NESTED_IFS} a sheet's lookup holds; group its levels first "
                "(a levels column with min_count)"
            )
        self.values = dict(sorted(found.items(), key=lambda kv: (isinstance(kv[0], str), kv[0])))

    def apply(self, rows: Rows) -> list[Any]:
        values = rows[self.column]
        blank = values.isna().to_numpy()
        if not blank.any():
            return [values]
        keys = rows[self.by][blank].map(lambda v: key_of(v, self.by_kind))
        if self.by_kind != TEXT:
            self._check_near([*self.values, *keys.dropna().unique()], rows[self.by].map(lambda v: key_of(v, self.by_kind)), rows)
        filled = values.astype(np.float64).to_numpy(copy=True)
        filled[blank] = [self.values.get(k, self.fallback) for k in keys]
        return [pd.Series(filled, index=values.index, name=values.name)]

    def _check_near(self, keys: Sequence[float], column: pd.Series, rows: Rows) -> None:
        """Two groups whose numbers agree in 15 significant digits are one group to LibreOffice's `=`: refused."""
        ordered = np.sort(np.asarray(list(keys), dtype=np.float64))
        for smaller, larger in zip(ordered[:-1], ordered[1:]):
            refuse_equal_to_15_digits_only(
                [larger], smaller, holder=f"{rows.source}: column {self.by}", against="its value ", fix=f"round {self.by}",
                locate=lambda _: rows.describe(int((column == larger).to_numpy().argmax())),
            )

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        # a filled cell: its group's cell in the table, found by nested IFs
        table = context.table or {}
        by = refs[1]
        formula = table[None]
        for key in reversed(list(self.values)):
            formula = excel.IF(excel_equals(by, key), table[key], formula)
        return [formula]

    def table(self) -> tuple[str, list[tuple[Any, Any]], Any] | None:
        return (f"{self.column}: {self.how} by {self.by}", list(self.values.items()), self.fallback)

    def state(self) -> dict[str, Any]:
        return {"group_fills": {"by": self.by, "values": [[plain(k), v] for k, v in self.values.items()], "fallback": self.fallback}}

    def load(self, state: Mapping[str, Any]) -> None:
        saved = state["group_fills"]
        self.values = {k: float(v) for k, v in saved["values"]}
        self.fallback = float(saved["fallback"])


@dataclass
class Raw(FeatureOp):
    """A numeric column as it is (the lesson's SibSp and Parch)."""

    column: str
    output: str

    passthrough: ClassVar[bool] = True

    def apply(self, rows: Rows) -> list[Any]:
        return [rows[self.column].to_numpy(dtype=np.float64)]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        return [refs[0]]


@dataclass
class Log(FeatureOp):
    """log(x+1) in base "log10" (the lesson's log_Fare) or "ln" (the notebook's)."""

    column: str
    base: str
    output: str

    monotone: ClassVar[bool] = True
    FUNCTIONS: ClassVar[dict[str, tuple[Callable[[Any], Any], Callable[..., str]]]] = {
        "log10": (np.log10, excel.LOG10),
        "ln": (np.log, excel.LN),
    }

    # x+1 is taken as 0 by LibreOffice once it nears 0 against the 1 (it rounds such a difference to 0), so the log's
    # domain is x+1 of at least this, in every engine
    SMALLEST_SUM: ClassVar[float] = 1e-12
    DOMAIN: ClassVar[str] = "values of at least -1+1e-12 (x+1 nearer 0 is 0 to LibreOffice)"

    @classmethod
    def outside_domain(cls, values: np.ndarray) -> np.ndarray:
        """Where log(x+1) is not the same number in every engine: x+1 below 1e-12."""
        return values + 1.0 < cls.SMALLEST_SUM

    def apply(self, rows: Rows) -> list[Any]:
        values = rows[self.column].to_numpy(dtype=np.float64)
        bad = self.outside_domain(values)
        if bad.any():
            first = int(bad.argmax())
            raise DataError(
                f"{rows.source}: column {self.column} holds {shown(values[first])} on {rows.describe(first)}; "
                f"log(x+1) needs {self.DOMAIN}"
            )
        return [self.FUNCTIONS[self.base][0](values + 1.0)]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        return [self.FUNCTIONS[self.base][1](f"{refs[0]}+1")]


@dataclass
class Scale(FeatureOp):
    """x divided by its training max (the lesson's Age_N), or by 1 when that max is 0."""

    column: str
    output: str
    key_column: str
    divisor: float | None = None

    STATE: ClassVar[tuple[str, ...]] = ("divisors",)

    @property
    def key(self) -> str:
        return self.key_column

    def fit(self, rows: Rows) -> None:
        top = float(np.max(rows[self.column]))
        self.divisor = top if top != 0.0 else 1.0

    def apply(self, rows: Rows) -> list[Any]:
        return [np.asarray(rows[self.column], dtype=np.float64) / self.divisor]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        return [f"{refs[0]}/{context.statistic}"]

    def statistic(self) -> Any:
        return self.divisor

    def excel_statistic(self, of_input: Callable[[Callable[[str], str]], str]) -> str | None:
        top = of_input(excel.MAX)
        # Python divides by 1 when the max is 0; the guard changes nothing when the max really is 1
        return excel.IF(f"{top}=0", 1, top) if self.divisor == 1.0 else top

    def state(self) -> dict[str, Any]:
        return {"divisors": self.divisor}

    def load(self, state: Mapping[str, Any]) -> None:
        self.divisor = float(state["divisors"])


@dataclass
class Dummies(FeatureOp):
    """One 0/1 column per kept level of a categorical column (the lesson's Pclass_1, Pclass_2, ...).

    `levels` (None: learned from the training rows, sorted, the first dropped as the reference when
    `drop_reference`); `names` of the dummy columns (default `<column>_<level>`); `reference`, the
    dropped level. With `levels` listed, every other level seen in training is a reference too (all
    zeros, like the named one): listing the levels that get a column is how a user keeps only those.
    Only a value never seen in training, listed or named gives all-zero dummies with an
    UnseenLevelWarning naming its rows.
    """

    column: str
    given_levels: tuple[Any, ...] | None = None
    names: tuple[str, ...] | None = None
    reference: Any = None
    drop_reference: bool = True
    levels: tuple[Any, ...] = ()
    references: tuple[Any, ...] = ()
    prefix: str | None = None  # the dummies' names are <prefix>_<level> (default: the column's name)

    STATE: ClassVar[tuple[str, ...]] = ("levels", "references")

    def __post_init__(self) -> None:
        if self.given_levels is not None:
            self.levels = tuple(self._key(level) for level in self.given_levels)
            self.references = () if self.reference is None else (self._key(self.reference),)

    @staticmethod
    def _key(value: Any) -> str:
        """A level is its text: a CSV's text as it is, a number given in a schema or a DataFrame as its text."""
        return text_of(value)

    @property
    def outputs(self) -> tuple[str, ...]:
        if self.names is not None:
            return tuple(self.names)
        return tuple(f"{self.prefix or self.column}_{level}" for level in self.levels)

    def fit(self, rows: Rows) -> None:
        values = rows[self.column].dropna()
        seen = _sorted_levels({self._key(v) for v in values})
        if self.given_levels is not None:
            # the levels not listed are the reference: all zeros, as the named reference is
            listed = set(self.levels)
            named = set() if self.reference is None else {self._key(self.reference)}
            self.references = tuple(_sorted_levels(named | (set(seen) - listed)))
        else:
            self.levels = tuple(seen[1:] if self.drop_reference else seen)
            self.references = tuple(_sorted_levels(set(seen) - set(self.levels)))
        self._check_formula_lengths(rows)

    def _check_formula_lengths(self, rows: Rows) -> None:
        """Each level's dummy formula fits Excel's 8,192 characters, or a DataError names the level's first row: found
        now, before any training, not when the workbook is written."""
        for level in self.levels:
            if len(level) > excel.MAX_CELL_CHARS:
                continue  # no cell holds it: refused as the cell's text, naming its row, whatever a formula could do
            formula = self.excel_level(excel.absolute(excel.MAX_ROWS - 1, excel.MAX_COLUMNS - 1), level)
            if len(formula) + 1 > excel.MAX_FORMULA_CHARS:
                keys = rows[self.column].map(self._key)
                first = int((keys == level).to_numpy().argmax())
                raise DataError(
                    f"{rows.source}: column {self.column} holds a level of {len(level):,} characters on "
                    f"{rows.describe(first)}, too long for a formula to compare with (Excel's formulas stop at "
                    f"{excel.MAX_FORMULA_CHARS:,} characters); shorten it, or leave the column out"
                )

    def apply(self, rows: Rows) -> list[Any]:
        keys = rows[self.column].map(self._key)
        known = set(self.levels) | set(self.references)
        unseen = ~keys.isin(known).to_numpy()
        warn_unseen(rows, self.column, keys, unseen, "their dummies are all zero")
        return [(keys == self._key(level)).to_numpy(dtype=np.float64) for level in self.levels]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        return [self.excel_level(refs[0], self._key(level)) for level in self.levels]

    @staticmethod
    def excel_level(x: str, level: str) -> str:
        """1 where the cell holds the level's text exactly, else 0 (Excel's = would ignore case)."""
        return excel.IF(excel.EXACT(x, excel.literal(level)), 1, 0)

    def state(self) -> dict[str, Any]:
        return {"levels": [plain(v) for v in self.levels], "references": [plain(v) for v in self.references]}

    def load(self, state: Mapping[str, Any]) -> None:
        self.levels = tuple(self._key(level) for level in state["levels"])
        self.references = tuple(self._key(level) for level in state["references"])


def embedding_width(levels: int) -> int:
    """fastai's rule for the width of a column's embedding from its number of levels: min(600, round(1.6 n^0.56))."""
    return min(600, round(1.6 * levels**0.56))


@dataclass
class Codes(FeatureOp):
    """A categorical column as the number of its level, 1 to n in sorted order and n + 1 for a level never seen in
    training: the row an embedding table (nn.Embed) looks up. Every level seen in training gets a number (none is a
    reference). `width` is the embedding's (None: `embedding_width` of the level count).

    On the sheet, the number is found by exact, case-sensitive text: MATCH(1, IF(EXACT(levels, x), 1, 0), 0) over the
    table's column of level texts (`RenderContext.levels`), n + 1 where no level matches.
    """

    column: str
    width: int | None = None
    levels: tuple[Any, ...] = ()
    output: str = ""

    STATE: ClassVar[tuple[str, ...]] = ("embedded levels",)
    array_cells: ClassVar[bool] = True  # EXACT over the table's levels is an array in every engine only so

    def __post_init__(self) -> None:
        self.output = self.output or f"{self.column}_code"

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    @property
    def rows(self) -> int:
        """The table's rows: one per level and one for a level never seen."""
        return len(self.levels) + 1

    @property
    def k(self) -> int:
        return self.width if self.width is not None else embedding_width(len(self.levels))

    def fit(self, rows: Rows) -> None:
        self.levels = tuple(_sorted_levels({text_of(v) for v in rows[self.column].dropna()}))
        if not self.levels:
            raise DataError(f"{rows.source}: column {self.column} is blank in every row, so it has no level to embed")

    def apply(self, rows: Rows) -> list[Any]:
        keys = rows[self.column].map(text_of)
        number = {level: float(i + 1) for i, level in enumerate(self.levels)}
        codes = keys.map(number).to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        unseen = np.isnan(codes)
        warn_unseen(rows, self.column, keys, unseen, "they take the embedding's row for unseen levels")
        codes[unseen] = float(self.rows)
        return [codes]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        if context.levels is None:
            raise ValueError(f"the number of column {self.column}'s level needs its embedding table's levels on the sheet")
        # the first level whose text is the cell's exactly (MATCH alone would ignore case)
        found = excel.MATCH(1, excel.IF(excel.EXACT(context.levels, refs[0]), 1, 0), 0)
        return [excel.IFERROR(found, self.rows)]

    def state(self) -> dict[str, Any]:
        return {"embedded levels": [plain(v) for v in self.levels]}

    def load(self, state: Mapping[str, Any]) -> None:
        self.levels = tuple(text_of(level) for level in state["embedded levels"])


@dataclass
class Constant(FeatureOp):
    """A column of ones, the constant term (the lesson's Ones)."""

    output: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return ()

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    @property
    def key(self) -> str:
        return self.output

    def apply(self, rows: Rows) -> list[Any]:
        return [np.ones(len(rows), dtype=np.float64)]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        return [None]  # the value 1 in every row, as in the lesson


# Rows (and levels) an UnseenLevelWarning names.
SHOWN_UNSEEN = 10


def warn_unseen(rows: Rows, column: str, keys: pd.Series, unseen: np.ndarray, fate: str) -> None:
    """An UnseenLevelWarning naming the levels of `column` never seen in training and their first rows, and what
    becomes of them (`fate`); nothing when there are none."""
    if not unseen.any():
        return
    # every value cut short: a level or an id may be thousands of characters
    where = [cut(rows.describe(int(i))) for i in np.flatnonzero(unseen)[:SHOWN_UNSEEN]]
    more = f" and {unseen.sum() - SHOWN_UNSEEN} more" if unseen.sum() > SHOWN_UNSEEN else ""
    levels = sorted(set(map(str, keys[unseen])))
    named = ", ".join(map(shown, levels[:SHOWN_UNSEEN])) + (" ..." if len(levels) > SHOWN_UNSEEN else "")
    warnings.warn(
        UnseenLevelWarning(
            f"{rows.source}: column {column}: level(s) [{named}] never seen in training; {fate} ({', '.join(where)}{more})"
        ),
        stacklevel=5,
    )


def _sorted_levels(levels: set[str]) -> list[str]:
    """Levels that read as numbers first, in numeric order (2 before 10), then the others in text order."""

    def order(level: str) -> tuple[int, float, str]:
        try:
            number = float(level)
        except ValueError:
            return (1, 0.0, level)
        return (0, number, level) if math.isfinite(number) else (1, 0.0, level)

    return sorted(levels, key=order)
