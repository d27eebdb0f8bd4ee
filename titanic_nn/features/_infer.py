"""A schema typed from a table's rows: numbers continuous, text of few levels categorical, the rest left out, each choice said."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import DataError
from ._target import target_kind
from ._schema import Categorical, Continuous, Schema

__all__ = ["infer_schema", "Choice", "MAX_LEVELS", "MIN_ROWS_FOR_ROW_NUMBERS", "INPUT_KINDS"]

# A text column becomes categorical when it holds at most this many levels, and no more levels than half its non-blank
# rows. Each level but one is a dummy column: a parameter of every model and a column of every sheet, so beyond 50 the
# workbook grows wide for features that few rows each inform; and a level held by about one row (names, tickets,
# free text, ids) is a dummy the models can only fit to that row, never learn from.
MAX_LEVELS = 50

# A numeric column of at least this many rows holding consecutive whole numbers, each once, is a row number or an id.
MIN_ROWS_FOR_ROW_NUMBERS = 10

# The kinds of a chosen input; a column not chosen is "id", "target" or "left out".
INPUT_KINDS = ("continuous", "log", "categorical")


@dataclass(frozen=True)
class Choice:
    """What became of one column: its `kind` (continuous, log, categorical, id, target, left out) and `why`."""

    column: str
    kind: str
    why: str


def infer_schema(
    data: Any,
    *,
    target: str | Sequence[str],
    id_column: str | None = None,
    continuous: Iterable[str] = (),
    log: Iterable[str] = (),
    categorical: Iterable[str] = (),
    ignore: Iterable[str] = (),
    positive: Any = None,
    blank: Iterable[str] = (),
    constant: str | None = "Ones",
    task: str | None = None,
) -> tuple[Schema, list[Choice]]:
    """The schema of a table's every column, typed from its rows, and the choice made for each column.

    `data` is a DataFrame or the path of a CSV (read as `read_csv` reads it: a column whose every non-blank value is a
    number holds numbers, any other holds text). The `target` and the `id_column` are never inputs; `ignore`d
    columns are left out; `task` is the target's kind (None: inferred from its values, `target_kind`); `continuous` (divided by the training max), `log` (log10(x+1)) and `categorical` columns
    are taken as given. Every other column is typed from its values:

    - numbers: continuous, divided by its training max (`scale = "max"`);
    - text of at most `MAX_LEVELS` levels, and levels no more than half its non-blank rows: categorical (n-1 dummies);
    - text mostly unique (names, free text, ids), or of more levels: left out;
    - one value (a constant), or no value at all: left out;
    - consecutive whole numbers, each once, in at least `MIN_ROWS_FOR_ROW_NUMBERS` rows (1..n): a row number or an id
      not named `id_column`, left out.

    A DataError names the file and every column left out, with why, when no column is left to learn from.
    """
    blank = tuple(blank)
    targets = [target] if isinstance(target, str) else list(target)  # several labels' columns, or one
    frame, source = _frame(data, target=target, id_column=id_column, positive=positive, blank=blank)
    given = {"continuous": list(continuous), "log": list(log), "categorical": list(categorical), "ignore": list(ignore)}
    _check_given(given, frame, source)
    chosen = {name: kind for kind, names in given.items() for name in names}
    choices: list[Choice] = []
    inferred: dict[str, list[str]] = {"continuous": [], "categorical": []}
    for column in frame.columns:
        name = str(column)
        if name in targets:
            choices.append(Choice(name, "target", "the column to predict"))
        elif name == id_column:
            choices.append(Choice(name, "id", "the id column, never an input"))
        elif name in chosen:
            kind = chosen[name]
            choices.append(Choice(name, "left out" if kind == "ignore" else kind, f"given ({_GIVEN[kind]})"))
        else:
            kind, why = _typed(frame[column])
            if kind in inferred:
                inferred[kind].append(name)
            choices.append(Choice(name, kind, why))
    listed = {choice.column for choice in choices}
    choices += [Choice(name, kind, f"given ({_GIVEN[kind]})") for name, kind in chosen.items() if name not in listed]
    if not given["continuous"] + given["log"] + given["categorical"] + inferred["continuous"] + inferred["categorical"]:
        raise DataError(_nothing_left(source, choices))
    schema = Schema(
        target=target,
        id_column=id_column,
        continuous=tuple(
            [Continuous(name, scale="max") for name in given["continuous"]]
            + [Continuous(name, log="log10") for name in given["log"]]
            + [Continuous(name, scale="max") for name in inferred["continuous"]]
        ),
        categorical=tuple(Categorical(name) for name in given["categorical"] + inferred["categorical"]),
        constant=constant,
        positive=positive,
        blank=blank,
        task=task,
    )
    kind = target_kind(schema, frame[target] if isinstance(target, str) and target in frame.columns else None)
    choices = [Choice(c.column, c.kind, f"{c.why} ({kind})") if c.kind == "target" else c for c in choices]
    return schema, choices


_GIVEN = {
    "continuous": "divided by its training max", "log": "log10(x+1)", "categorical": "n-1 dummies",
    "ignore": "to leave out",
}


def _frame(data: Any, *, target: str, id_column: str | None, positive: Any, blank: Iterable[str]) -> tuple[Any, str]:
    """The rows, and the file they came from for messages ("the data" for a frame made otherwise)."""
    from .._data import read_csv, source_of

    if isinstance(data, (str, Path)):
        text = [id_column] if id_column else []
        text += [target] if isinstance(positive, str) else []
        frame = read_csv(data, text=text, blanks=("", *blank))
        return frame, str(data)
    return data, source_of(data) or "the data"


def _check_given(given: dict[str, list[str]], frame: Any, source: str) -> None:
    """A column is given to one kind once; a column to leave out is one the table has."""
    from .._plain import names_cut, shown

    seen: dict[str, str] = {}
    for kind, names in given.items():
        for name in names:
            if name in seen and seen[name] != kind:
                raise DataError(f"column {shown(name)} is given both as {seen[name]} and as {kind}; give it as one of them")
            seen[name] = kind
    absent = [name for name in given["ignore"] if name not in frame.columns]
    if absent:
        raise DataError(
            f"{source}: has no {names_cut(absent, 'column')} to leave out; the file has {names_cut(frame.columns)}"
        )


def _typed(values: Any) -> tuple[str, str]:
    """A column's kind and why, from its non-blank values."""
    present = values[values.notna()]
    blanks = len(values) - len(present)
    blank_note = f", {blanks} blank" if blanks else ""
    if not len(present):
        return "left out", "blank in every row"
    numeric = _numeric(present)
    distinct = present.nunique() if numeric else present.astype(str).nunique()
    if distinct == 1:
        from .._plain import shown

        return "left out", f"one value, {shown(present.iloc[0])}, in every non-blank row"
    if numeric and _row_numbers(present):
        low, high = _plain_number(present.min()), _plain_number(present.max())
        return "left out", f"whole numbers {low} to {high}, each once: a row number or an id"
    if numeric:
        return "continuous", f"numbers{blank_note}"
    if 2 * distinct > len(present):
        rows = f"{len(present)} non-blank rows" if blanks else f"{len(present)} rows"
        return "left out", f"{distinct} distinct texts of {rows}: mostly unique"
    if distinct > MAX_LEVELS:
        return "left out", f"{distinct} levels, more than {MAX_LEVELS}"
    return "categorical", f"{distinct} levels{blank_note}"


def _row_numbers(values: Any) -> bool:
    """Whether numbers are consecutive whole numbers, each once (1..n, 1000..1890): an index or an id, which says only
    where a row sits in the file. Checked from `MIN_ROWS_FOR_ROW_NUMBERS` rows, where a run is no coincidence."""
    import pandas as pd

    if len(values) < MIN_ROWS_FOR_ROW_NUMBERS or pd.api.types.is_bool_dtype(values):
        return False
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    whole = bool((numbers == numbers.round()).all())
    return whole and numbers.nunique() == len(numbers) and numbers.max() - numbers.min() == len(numbers) - 1


def _plain_number(value: Any) -> str:
    from .._plain import shown

    return shown(float(value))


def _numeric(values: Any) -> bool:
    """Whether every value is a number, as `as_numbers` reads a column: numbers, or text each parsing as one."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return True
    return not pd.to_numeric(values, errors="coerce").isna().any()


def _nothing_left(source: str, choices: list[Choice]) -> str:
    from .._plain import cut

    left_out = "; ".join(f"{cut(c.column, 40)} ({c.why})" for c in choices if c.kind == "left out")
    return cut(
        f"{source}: no column is left to learn from: {left_out or 'the file has only the target and the id'}; "
        "name the columns to use as continuous or categorical (--continuous, --categorical), or give a schema file",
        2000,
    )
