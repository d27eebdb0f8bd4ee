"""Derived columns: feature ops that make new named columns from others, each placed in a sheet column of its own.

The part of the vocabulary beyond the lesson (Kaggle's Title, FamilySize, TicketFrequency, Deck and
group survival, for any table): text extracted between delimiters, levels mapped or grouped when
rare, sums and ratios of columns, how many rows share a value, text joined into a key, and a group's
rate of the target with each training row's own label left out. Each op is one class: its settings
(the schema's `[[derived]]` entry), what it learns from the training rows (`fit`), its pandas
evaluation (`apply`) and its Excel formula (`excel`), side by side. `DERIVED` is the one registry the
schema looks kinds up in.

Text is compared exactly, as Python compares it: with EXACT, never with Excel's `=` (which ignores
case) nor with COUNTIF, COUNTIFS, SUMIFS, MATCH or VLOOKUP, which read their criterion as a pattern
(`*`, `?` and `~` as wildcards, a leading `<`, `>` or `=` as a comparison) and ignore case, so that a
ticket "A*" or ">5" would be counted wrongly. A count over a column is SUMPRODUCT(--EXACT(range&"", cell)):
SUMPRODUCT evaluates its arguments over the whole range in Excel, LibreOffice and Gnumeric alike,
so the cell is a plain formula, not an array formula.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import excel
from .._plain import shown
from ..errors import DataError
from ._ops import (
    MAX_NESTED_IFS, NUMBER, TEXT, FeatureOp, RenderContext, Rows, excel_equals, refuse_equal_to_15_digits_only,
    number_text_problem, text_of,
)

__all__ = [
    "DERIVED", "derived", "Derived", "Extract", "Levels", "Sum", "Ratio", "Count", "Join", "TargetRate",
    "ANY",
]

# What a derived op reads each input as: a number (blanks filled first, NUMBER), text, or either (compared as it is).
ANY = "any"
# Excel's MID takes a length; a cell holds at most this many characters, so this means "to the end".
TO_THE_END = excel.MAX_CELL_CHARS

DERIVED: dict[str, type["Derived"]] = {}


def derived(name: str) -> Callable[[type["Derived"]], type["Derived"]]:
    """Register a derived op under the schema's `kind` name."""

    def register(cls: type["Derived"]) -> type["Derived"]:
        cls.registered_name = name
        DERIVED[name] = cls
        return cls

    return register


class Derived(FeatureOp):
    """A feature op making named columns that the sheet places in columns of their own.

    Its settings are its dataclass fields that `__init__` takes (what the schema holds); learned state
    is in fields it does not take. `reads` gives each input with how it is read (NUMBER, TEXT or ANY).
    """

    placed: ClassVar[bool] = True
    registered_name: ClassVar[str] = ""
    # each input column's kind, TEXT or NUMBER, as the program compiled from a schema reads it (`read_as`)
    input_kinds: Mapping[str, str] = {}

    def read_as(self, kinds: Mapping[str, str]) -> "Derived":
        """Say how the program holds each input (TEXT or NUMBER): the sheet compares as Python does."""
        self.input_kinds = {name: kinds.get(name, NUMBER) for name in self.inputs}
        return self

    @property
    def reads(self) -> list[tuple[str, str]]:
        return [(name, TEXT) for name in self.inputs]

    @property
    def key(self) -> str:
        return self.outputs[0]

    def settings(self) -> dict[str, Any]:
        """The schema entry: `kind` and every setting, as plain JSON-able values."""
        out: dict[str, Any] = {"kind": self.registered_name}
        for spec in dataclasses.fields(self):  # type: ignore[arg-type]
            if spec.init:
                out[spec.name] = _plain_setting(getattr(self, spec.name))
        return out

    def fresh(self) -> "Derived":
        """A copy with the same settings and nothing learned."""
        return type(self)(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init})  # type: ignore[arg-type]

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "Derived":
        known = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise DataError(
                f"schema: a derived column of kind {cls.registered_name!r} has no setting {', '.join(unknown)}; "
                f"its settings are {', '.join(known)}"
            )
        try:
            return cls(**dict(settings))
        except TypeError as exc:
            raise DataError(f"schema: derived column of kind {cls.registered_name!r}: {exc}") from exc

    def texts(self, rows: Rows, name: str) -> pd.Series:
        """Column `name` as exact text, blanks as "". A number's text is the one the sheet makes of it (A4&""), so a
        number whose text a spreadsheet writes otherwise (more than 15 digits, an exponent) is refused, naming it."""
        values = rows[name]
        if rows.kinds.get(name) == TEXT and values.map(type).eq(str).all():
            return values
        numbers = values.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)))
        for value in pd.unique(values[numbers.to_numpy(dtype=bool)]):  # each distinct number once
            problem = number_text_problem(value)
            if problem:
                position = int((values == value).to_numpy().argmax())
                raise DataError(
                    f"{rows.source}: column {name} holds {shown(value)} on {rows.describe(position)}, {problem}, and "
                    f"{self.outputs[0]} reads it as text; round the column or read it as text (categorical)"
                )
        return values.map(text_of)


def _plain_setting(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain_setting(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_setting(v) for v in value]
    return value


def _check_name(kind: str, name: Any, what: str = "name") -> None:
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"schema: a derived column of kind {kind!r} needs a {what}, the column it makes")


def _check_bmp(values: pd.Series, rows: Rows, column: str) -> None:
    """Spreadsheets count a character beyond U+FFFF (an emoji) as two, Python as one: such text is refused."""
    wide = values.map(lambda t: any(ord(c) > 0xFFFF for c in t)).to_numpy()
    if wide.any():
        first = int(wide.argmax())
        raise DataError(
            f"{rows.source}: column {column} holds a character beyond U+FFFF (an emoji?) at {rows.describe(first)}, "
            "which spreadsheets count as two characters; remove it to extract text from this column"
        )


@derived("extract")
@dataclass
class Extract(Derived):
    """Text cut out of a column: what follows the first `after`, up to the first `before` after it, then its first
    `chars` characters (a negative `chars` drops that many from the end).

    Kaggle's Title is Name between ", " and "."; Surname, Name before ","; Deck, Cabin's first character.
    Where `after` or `before` is given but not found, the result is "" (blank). Positions are
    Python's str.find and FIND's, both case-sensitive; a blank cell is "".
    """

    column: str
    name: str
    after: str | None = None
    before: str | None = None
    chars: int | None = None

    output_kind: ClassVar[str | None] = TEXT

    def __post_init__(self) -> None:
        _check_name("extract", self.name)
        for label, value in (("after", self.after), ("before", self.before)):
            if value is not None and (not isinstance(value, str) or value == ""):
                raise DataError(f"schema: derived column {self.name}: {label} must be a non-empty text, not {value!r}")
        if self.chars is not None and (isinstance(self.chars, bool) or not isinstance(self.chars, int) or self.chars == 0):
            raise DataError(f"schema: derived column {self.name}: chars must be a whole number other than 0, not {self.chars!r}")
        if self.after is None and self.before is None and self.chars is None:
            raise DataError(f"schema: derived column {self.name}: give after, before or chars (what to extract)")

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.name,)

    def one(self, text: str) -> str:
        if self.after is not None:
            at = text.find(self.after)
            if at < 0:
                return ""
            text = text[at + len(self.after):]
        if self.before is not None:
            at = text.find(self.before)
            if at < 0:
                return ""
            text = text[:at]
        if self.chars is not None:
            text = text[: self.chars] if self.chars > 0 else text[: max(0, len(text) + self.chars)]
        return text

    def apply(self, rows: Rows) -> list[Any]:
        values = self.texts(rows, self.column)
        _check_bmp(values, rows, self.column)
        return [values.map(self.one).astype(object)]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        text = refs[0]
        if self.after is not None:
            start = f"{excel.FIND(excel.literal(self.after), text)}+{len(self.after)}"
            text = excel.MID(text, start, TO_THE_END)
        if self.before is not None:
            text = excel.LEFT(text, f"{excel.FIND(excel.literal(self.before), text)}-1")
        if self.chars is not None:
            count = str(self.chars) if self.chars > 0 else excel.MAX(0, f"{excel.LEN(text)}-{-self.chars}")
            text = excel.LEFT(text, count)
        if self.after is not None or self.before is not None:
            text = excel.IFERROR(text, '""')  # a delimiter not found: blank, as in Python
        return [text]


@derived("levels")
@dataclass
class Levels(Derived):
    """A column's levels mapped (`map`: level -> the level it becomes), then, with `min_count`, every level seen in
    fewer training rows (after mapping) replaced by `other`.

    Kaggle's rare titles: Mlle and Ms to Miss, Mme to Mrs, then every title of fewer than 10 training
    rows to "Rare". A level never seen in training is rare too (it was seen 0 times). Without
    `min_count`, levels not in `map` stay as they are. Levels are exact texts ("" is a blank).
    """

    column: str
    name: str
    map: Mapping[str, str] = field(default_factory=dict)
    min_count: int | None = None
    other: str = "Rare"
    kept: tuple[str, ...] = field(default=(), init=False, compare=False, repr=False)

    output_kind: ClassVar[str | None] = TEXT
    STATE: ClassVar[tuple[str, ...]] = ("kept_levels",)

    def __post_init__(self) -> None:
        _check_name("levels", self.name)
        if not isinstance(self.map, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in self.map.items()):
            raise DataError(f"schema: derived column {self.name}: map must be a table of text levels to text levels")
        self.map = dict(sorted(self.map.items()))  # in the order a saved schema (sorted keys) reads back
        if self.min_count is not None and (isinstance(self.min_count, bool) or not isinstance(self.min_count, int) or self.min_count < 1):
            raise DataError(f"schema: derived column {self.name}: min_count must be a whole number of at least 1, not {self.min_count!r}")
        if not isinstance(self.other, str):
            raise DataError(f"schema: derived column {self.name}: other must be a text, not {self.other!r}")
        if self.min_count is None and not self.map:
            raise DataError(f"schema: derived column {self.name}: give map or min_count (how the levels are grouped)")
        targets = sorted(set(self.map.values()))
        if len(targets) > MAX_NESTED_IFS:
            raise DataError(f"schema: derived column {self.name}: map names {len(targets)} levels, more than {MAX_NESTED_IFS}")

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.name,)

    def fit(self, rows: Rows) -> None:
        if self.min_count is None:
            return
        counts = self.texts(rows, self.column).map(lambda t: self.map.get(t, t)).value_counts()
        kept = sorted(str(level) for level, n in counts.items() if n >= self.min_count)
        if len(kept) > MAX_NESTED_IFS:
            raise DataError(
                f"{rows.source}: derived column {self.name} keeps {len(kept)} levels of {self.column} seen at least "
                f"{self.min_count} times, more than the {MAX_NESTED_IFS} a sheet's formula tests; raise min_count"
            )
        self.kept = tuple(kept)

    def one(self, text: str) -> str:
        mapped = self.map.get(text, text)
        if self.min_count is None or mapped in self.kept:
            return mapped
        return self.other

    def apply(self, rows: Rows) -> list[Any]:
        return [self.texts(rows, self.column).map(self.one).astype(object)]

    def _sources(self, level: str) -> list[str]:
        """Every text that becomes `level` by the map (the level itself, unless the map sends it elsewhere)."""
        sources = [k for k, v in self.map.items() if v == level]
        return sources + ([level] if level not in self.map else [])

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        x = refs[0]

        def any_of(texts: Sequence[str]) -> str:
            tests = [excel.EXACT(x, excel.literal(t)) for t in texts]
            return tests[0] if len(tests) == 1 else excel.OR(*tests)

        if self.min_count is None:
            formula = x  # a level the map does not name stays as it is
            for target in reversed(sorted(set(self.map.values()))):
                formula = excel.IF(any_of([k for k, v in self.map.items() if v == target]), excel.literal(target), formula)
            return [formula]
        formula = excel.literal(self.other)
        for level in reversed(self.kept):
            formula = excel.IF(any_of(self._sources(level)), excel.literal(level), formula)
        return [formula]

    def state(self) -> dict[str, Any]:
        return {"kept_levels": list(self.kept)}

    def load(self, state: Mapping[str, Any]) -> None:
        self.kept = tuple(str(v) for v in state["kept_levels"])


@derived("sum")
@dataclass
class Sum(Derived):
    """The sum of numeric columns plus a constant `add`: Kaggle's FamilySize = SibSp + Parch + 1."""

    columns: tuple[str, ...]
    name: str
    add: float = 0.0

    def __post_init__(self) -> None:
        _check_name("sum", self.name)
        self.columns = _names(self.columns, self.name, "columns")
        if isinstance(self.add, bool) or not isinstance(self.add, (int, float)) or not np.isfinite(self.add):
            raise DataError(f"schema: derived column {self.name}: add must be a number, not {self.add!r}")

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(self.columns)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.name,)

    @property
    def reads(self) -> list[tuple[str, str]]:
        return [(name, NUMBER) for name in self.columns]

    def apply(self, rows: Rows) -> list[Any]:
        total = rows[self.columns[0]].to_numpy(dtype=np.float64)
        for name in self.columns[1:]:  # left to right, as the formula adds
            total = total + rows[name].to_numpy(dtype=np.float64)
        if self.add:
            total = total + float(self.add)
        return [total]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        terms = [excel.atom(r) for r in refs] + ([excel.literal(_plain_number(self.add))] if self.add else [])
        return ["+".join(terms)]


@derived("ratio")
@dataclass
class Ratio(Derived):
    """One numeric column over another: Kaggle's FarePerPerson = Fare / TicketFrequency. A zero denominator is refused."""

    numerator: str
    denominator: str
    name: str

    def __post_init__(self) -> None:
        _check_name("ratio", self.name)
        for label in ("numerator", "denominator"):
            if not isinstance(getattr(self, label), str):
                raise DataError(f"schema: derived column {self.name}: {label} must name a column")

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.name,)

    @property
    def reads(self) -> list[tuple[str, str]]:
        return [(self.numerator, NUMBER), (self.denominator, NUMBER)]

    def apply(self, rows: Rows) -> list[Any]:
        top = rows[self.numerator].to_numpy(dtype=np.float64)
        bottom = rows[self.denominator].to_numpy(dtype=np.float64)
        zero = bottom == 0
        if zero.any():
            first = int(zero.argmax())
            raise DataError(
                f"{rows.source}: {self.name} divides by {self.denominator}, which is 0 at {rows.describe(first)}; "
                "a ratio needs a denominator that is never 0"
            )
        return [top / bottom]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        return [f"{excel.atom(refs[0])}/{excel.atom(refs[1])}"]


@derived("count")
@dataclass
class Count(Derived):
    """How many rows hold the same text in `column`: the training rows the features keep plus the unlabelled rows
    given to fit (the test rows; they carry no target, so counting them uses no label). Kaggle's
    TicketFrequency.

    A row's own value counts, so a value held once counts 1; a blank counts 1 (blanks share nothing).
    A row given later (not among those counted) gets the count learned for its value, or 1. On the
    sheet: SUMPRODUCT(--EXACT(...)) over the column of the model sheet and, when test rows were counted, of
    the test sheet.
    """

    column: str
    name: str
    counts: dict[str, int] = field(default_factory=dict, init=False, compare=False, repr=False)
    unlabelled_rows: int = field(default=0, init=False, compare=False, repr=False)

    whole_columns: ClassVar[bool] = True
    counts_unlabelled: ClassVar[bool] = True
    STATE: ClassVar[tuple[str, ...]] = ("counts",)

    def __post_init__(self) -> None:
        _check_name("count", self.name)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.name,)

    def fit(self, rows: Rows) -> None:
        seen = [self.texts(rows, self.column)]
        self.unlabelled_rows = 0
        if rows.unlabelled is not None and len(rows.unlabelled):
            seen.append(self.texts(rows.unlabelled, self.column))
            self.unlabelled_rows = len(rows.unlabelled)
        values = pd.concat(seen, ignore_index=True)
        counts = values[values != ""].value_counts()
        self.counts = {str(k): int(n) for k, n in sorted(counts.items())}

    def apply(self, rows: Rows) -> list[Any]:
        texts = self.texts(rows, self.column)
        return [np.array([max(1, self.counts.get(t, 0)) if t != "" else 1 for t in texts], dtype=np.float64)]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        x, sheet = refs[0], _sheet(context, self.name)
        sources = ["train"] + (["test"] if self.unlabelled_rows else [])
        counts = []
        for rows in sources:
            column = sheet.column(self.column, rows)
            if column is None:
                raise DataError(
                    f"{self.name} counts the test rows' {self.column} too, but the workbook has no test rows; "
                    "give the test rows the features were fitted with"
                )
            counts.append(excel.SUMPRODUCT(f"--{excel.EXACT(_as_text(column), x)}"))
        return [excel.IF(excel.EXACT(x, '""'), 1, "+".join(counts))]

    def check_rows(self, train: Rows, test: Rows | None) -> None:
        """The rows a workbook holds must be those counted: else its formulas would count other rows than Python."""
        seen = [self.texts(train, self.column)]
        if self.unlabelled_rows:
            if test is None or len(test) != self.unlabelled_rows:
                got = "no" if test is None else f"{len(test)}"
                raise DataError(
                    f"{self.name} was counted over the training rows and {self.unlabelled_rows} test rows, but the "
                    f"workbook gets {got} test rows; give the test rows the features were fitted with"
                )
            seen.append(self.texts(test, self.column))
        values = pd.concat(seen, ignore_index=True)
        counts = values[values != ""].value_counts()
        if {str(k): int(n) for k, n in counts.items()} != self.counts:
            raise DataError(
                f"the rows given are not those {self.name} counted {self.column} over (the counts differ); give the "
                "training and test rows the features were fitted with"
            )

    def state(self) -> dict[str, Any]:
        return {"counts": {"values": dict(self.counts), "unlabelled_rows": self.unlabelled_rows}}

    def load(self, state: Mapping[str, Any]) -> None:
        saved = state["counts"]
        self.counts = {str(k): int(v) for k, v in saved["values"].items()}
        self.unlabelled_rows = int(saved["unlabelled_rows"])


@derived("join")
@dataclass
class Join(Derived):
    """Columns' texts joined with `separator` into one key, e.g. Surname|TicketGroup; with `where`, only for the rows
    that hold one of the listed values in one of the listed columns (any holds), and "" for the others.

    `where` maps a column to a value or a list of values: {"Sex": "female", "TitleGroup": "Master"}
    makes the key of women and boys only (Kaggle's woman-or-child groups). A number is compared as a
    number, a text exactly.
    """

    columns: tuple[str, ...]
    name: str
    separator: str = "|"
    where: Mapping[str, Any] = field(default_factory=dict)

    output_kind: ClassVar[str | None] = TEXT

    def __post_init__(self) -> None:
        _check_name("join", self.name)
        self.columns = _names(self.columns, self.name, "columns")
        if not isinstance(self.separator, str):
            raise DataError(f"schema: derived column {self.name}: separator must be a text, not {self.separator!r}")
        if not isinstance(self.where, Mapping):
            raise DataError(f"schema: derived column {self.name}: where must be a table of column = value(s)")
        conditions = {}
        for column, values in self.where.items():
            values = list(values) if isinstance(values, (list, tuple)) else [values]
            if not values or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values):
                raise DataError(f"schema: derived column {self.name}: where {column} must be a value or a list of values")
            conditions[str(column)] = tuple(values)
        self.where = dict(sorted(conditions.items()))  # in the order a saved schema (sorted keys) reads back

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(self.columns) + tuple(c for c in self.where if c not in self.columns)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.name,)

    @property
    def reads(self) -> list[tuple[str, str]]:
        return [(c, TEXT) for c in self.columns] + [(c, ANY) for c in self.where if c not in self.columns]

    def _wanted(self, column: str) -> list[Any]:
        """The keys `where` lists for `column`: texts in a text column, numbers in a number column."""
        kind = self.input_kinds.get(column, TEXT)
        if kind == TEXT:
            return [text_of(v) for v in self.where[column]]
        wanted = []
        for value in self.where[column]:
            try:
                wanted.append(float(value))
            except ValueError:
                raise DataError(
                    f"schema: derived column {self.name}: where {column} = {shown(value)}, but {column} holds numbers; "
                    "give a number"
                ) from None
        return wanted

    def _members(self, rows: Rows) -> np.ndarray:
        member = np.zeros(len(rows), dtype=bool)
        for column in self.where:
            wanted = self._wanted(column)
            if self.input_kinds.get(column, TEXT) == TEXT:
                member |= self.texts(rows, column).isin(wanted).to_numpy()
                continue
            numbers = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=np.float64)
            for value in wanted:
                refuse_equal_to_15_digits_only(
                    numbers, value, holder=f"{rows.source}: column {column}", locate=rows.describe,
                    against=f"{self.name}'s where value ", fix="round the column",
                )
                member |= numbers == value
        return member

    def apply(self, rows: Rows) -> list[Any]:
        parts = [self.texts(rows, c) for c in self.columns]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + self.separator + part
        if self.where:
            joined = joined.where(self._members(rows), "")
        return [joined.astype(object)]

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        sep = excel.literal(self.separator)
        parts = [excel.atom(r) for r in refs[: len(self.columns)]]
        joined = f"&{sep}&".join(parts) if self.separator else "&".join(parts)
        if len(parts) == 1:
            joined = f"{parts[0]}&\"\""  # text, as Python makes it, even from a number
        if not self.where:
            return [joined]
        ref = dict(zip(self.inputs, refs))
        tests = [excel_equals(ref[column], key) for column in self.where for key in self._wanted(column)]
        test = tests[0] if len(tests) == 1 else excel.OR(*tests)
        return [excel.IF(test, joined, '""')]


@derived("target_rate")
@dataclass
class TargetRate(Derived):
    """For each row, the target's mean over the OTHER training rows holding the same key; `known` (optional) names a
    0/1 column saying whether there were any. Kaggle's group survival.

    A training row leaves its own label out (leave-one-out), so no row ever sees its own label; any
    other row (test rows, rows given later) gets the mean over every training row of its key. A
    blank key ("") is no group. Where there are no such rows the rate is `default`. Learned from the
    training rows only: each key's row count and target sum. On the sheet: SUMPRODUCT(--EXACT(keys,
    key), targets) over the model sheet's rows, less the row's own target on the model sheet.
    """

    column: str
    name: str
    known: str | None = None
    default: float = 0.0
    groups: dict[str, tuple[int, float]] = field(default_factory=dict, init=False, compare=False, repr=False)

    whole_columns: ClassVar[bool] = True
    STATE: ClassVar[tuple[str, ...]] = ("target_rates",)

    def __post_init__(self) -> None:
        _check_name("target_rate", self.name)
        if self.known is not None:
            _check_name("target_rate", self.known, "known name")
        if isinstance(self.default, bool) or not isinstance(self.default, (int, float)) or not np.isfinite(self.default):
            raise DataError(f"schema: derived column {self.name}: default must be a number, not {self.default!r}")

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.name,) + ((self.known,) if self.known else ())

    def _sums(self, rows: Rows) -> dict[str, tuple[int, float]]:
        if rows.target is None:
            raise DataError(f"{rows.source}: {self.name} is a rate of the target, so the training rows need their target")
        keys = self.texts(rows, self.column).to_numpy()
        target = np.asarray(rows.target, dtype=np.float64)
        groups: dict[str, tuple[int, float]] = {}
        for key, y in zip(keys, target):
            if key != "":
                n, s = groups.get(key, (0, 0.0))
                groups[key] = (n + 1, s + float(y))
        return dict(sorted(groups.items()))

    def fit(self, rows: Rows) -> None:
        self.groups = self._sums(rows)

    def apply(self, rows: Rows) -> list[Any]:
        keys = self.texts(rows, self.column).to_numpy()
        counts = np.array([self.groups.get(k, (0, 0.0))[0] if k != "" else 0 for k in keys], dtype=np.float64)
        sums = np.array([self.groups.get(k, (0, 0.0))[1] if k != "" else 0.0 for k in keys], dtype=np.float64)
        if rows.training:
            if self._sums(rows) != self.groups:
                raise DataError(
                    f"{rows.source}: these are not the training rows {self.name} was learned from (its groups' counts "
                    "or target sums differ); give the rows the features were fitted on"
                )
            own = keys != ""
            counts = counts - own
            sums = sums - np.where(own, np.asarray(rows.target, dtype=np.float64), 0.0)
        known = counts > 0
        rate = np.where(known, sums / np.where(known, counts, 1.0), float(self.default))
        return [rate] + ([known.astype(np.float64)] if self.known else [])

    def excel(self, refs: Sequence[str], context: RenderContext) -> list[str | None]:
        x, sheet = refs[0], _sheet(context, self.name)
        keys = sheet.column(self.column, "train")
        match = excel.EXACT(_as_text(keys), x)
        count, total = excel.SUMPRODUCT(f"--{match}"), excel.SUMPRODUCT(f"--{match}", sheet.targets())
        if sheet.training:  # the row's own label left out
            count, total = f"({count}-1)", f"({total}-{excel.atom(sheet.target())})"
        blank = excel.EXACT(x, '""')
        default = excel.literal(_plain_number(self.default))
        rate = excel.IF(blank, default, excel.IF(f"{count}>0", f"{total}/{count}", default))
        known = excel.IF(blank, 0, excel.IF(f"{count}>0", 1, 0))
        return [rate] + ([known] if self.known else [])

    def state(self) -> dict[str, Any]:
        return {"target_rates": {k: [n, s] for k, (n, s) in self.groups.items()}}

    def load(self, state: Mapping[str, Any]) -> None:
        self.groups = {str(k): (int(v[0]), float(v[1])) for k, v in state["target_rates"].items()}


def _names(columns: Any, name: str, label: str) -> tuple[str, ...]:
    if isinstance(columns, str) or not isinstance(columns, (list, tuple)) or not columns:
        raise DataError(f"schema: derived column {name}: {label} must be a list of column names")
    if not all(isinstance(c, str) and c for c in columns):
        raise DataError(f"schema: derived column {name}: {label} must be a list of column names, not {shown(columns)}")
    return tuple(columns)


def _as_text(column: str) -> str:
    """A range's values as text: LibreOffice's EXACT over a range of numbers (zip codes) is FALSE for each, even
    for an equal number; a number joined to "" is its text, in every engine."""
    return f'{column}&""'


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _sheet(context: RenderContext, name: str) -> Any:
    if context.sheet is None:
        raise DataError(f"{name} reads whole columns and can only be written on a sheet of rows")
    return context.sheet
