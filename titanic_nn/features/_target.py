"""The target: what the column to predict holds, how its values are coded for the models, in pandas and as Excel text,
its default loss, its metrics and how a prediction is written to the submission. One object, asked by every reader.

A binary target (the Titanic's Survived) holds 0 and 1, or two values of which `positive` is the one coded 1.
Values are compared as what they are: text as text, exactly (`EXACT`, never Excel's `=`, which ignores case),
numbers as numbers. A `positive` given as text ("yes", or "1" from the command line) is compared with each
value's text (a number's text as a spreadsheet shows it, `text_of`); one given as a number, with numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np
import pandas as pd

from .. import excel
from .._plain import shown
from ..errors import DataError
from ._ops import number_text_problem, refuse_equal_to_15_digits_only, text_of

__all__ = ["Target", "Binary", "TARGETS", "THRESHOLD", "target_of", "accuracy", "classify"]

# A prediction above this is the class 1, as the sheet's IF(pred>0.5,1,0).
THRESHOLD = 0.5


def classify(pred: Any, threshold: float = THRESHOLD) -> np.ndarray:
    """0/1 integers: 1 where the prediction is above `threshold`."""
    return (np.asarray(pred, dtype=np.float64) > threshold).astype(np.int64)


def accuracy(pred: Any, y: Any, threshold: float = THRESHOLD) -> float:
    """Share of rows where the class of `pred` equals the 0/1 target."""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if pred.shape != y.shape:
        raise ValueError(f"predictions have {pred.size} values but the target has {y.size}")
    return float(np.mean((pred > threshold).astype(np.float64) == y))


@dataclass(frozen=True)
class Target:
    """The column to predict (`column`), of its kind; subclasses say how it is coded and scored."""

    column: str
    kind: ClassVar[str]
    # the loss models train with unless told otherwise
    default_loss: ClassVar[str]

    def code(
        self, values: pd.Series, *, source: str, locate: Callable[[int], str], blank_fix: str = "", value_fix: str = "",
        positive_option: str = "Schema(positive={value})",
    ) -> np.ndarray:
        """The model's float64 target from the file's values; a DataError names the first value it cannot code.

        `locate(i)` names row position i ("row 4 (PassengerId 4)", "line 5"); the fixes are the caller's words.
        """
        raise NotImplementedError

    def excel_code(self, ref: str, *, array: bool = False) -> str:
        """The model's target as a formula of the cell `ref` holding the file's value, or with `array` as an array
        expression of the range `ref`."""
        raise NotImplementedError

    def describe_coding(self) -> str:
        """How the sheet codes the target, for its about sheet ("" when it holds the model's numbers)."""
        return ""

    @property
    def array_scores(self) -> bool:
        """Whether a score cell over the target column must be an array formula: a function applied to each value of
        a range (EXACT) is evaluated row by row only in one, in every engine (Gnumeric gives #VALUE! otherwise)."""
        return False


@dataclass(frozen=True)
class Binary(Target):
    """0 and 1, or two values of which `positive` is coded 1 and the other 0. Predictions are classes above 0.5."""

    positive: Any = None
    kind: ClassVar[str] = "binary"
    default_loss: ClassVar[str] = "mse"

    # -- coding ----------------------------------------------------------------------------------------

    def _blank(self, values: pd.Series, source: str, locate: Callable[[int], str], fix: str) -> None:
        blank = values.isna()  # only an empty cell (or a blank marker, read as one) is blank
        if blank.any():
            first = int(blank.to_numpy().argmax())
            where = locate(first)
            preposition = "on" if where.startswith("line") else "at"
            raise DataError(
                f"{source}: target {values.name} is blank in {int(blank.sum())} row(s), first {preposition} {where}; "
                f"{fix or 'give every training row a 0 or 1, or remove the row'}"
            )

    def is_positive(self, values: pd.Series, *, source: str = "the data", locate: Callable[[int], str] = str) -> np.ndarray:
        """True where a value is `positive`: its text exactly, or, for a positive given as a number, the same number.

        A value the sheet would compare otherwise is refused, naming it: a number whose text a spreadsheet writes
        otherwise than Python, or one equal to a numeric positive in 15 significant digits but not exactly."""
        numbers = values.map(lambda v: _as_float(v) if not isinstance(v, str) else None)
        if isinstance(self.positive, str):
            for position, number in enumerate(numbers.tolist()):
                problem = None if number is None or number != number else number_text_problem(number)
                if problem:
                    raise DataError(
                        f"{source}: target {values.name} holds {shown(number)} on {locate(position)}, {problem}, "
                        f"and is compared as text with {shown(self.positive)}; read the target as text or round it"
                    )
            return values.map(lambda v: text_of(v) == self.positive).to_numpy(dtype=bool)
        wanted = float(self.positive)
        floats = numbers.astype("float64").to_numpy()
        refuse_equal_to_15_digits_only(
            floats, wanted, holder=f"{source}: target {values.name}", locate=locate, against="the positive value ",
            fix="round the target",
        )
        return (floats == wanted) & values.map(lambda v: not isinstance(v, str)).to_numpy(dtype=bool)

    def code(
        self, values: pd.Series, *, source: str, locate: Callable[[int], str], blank_fix: str = "", value_fix: str = "",
        positive_option: str = "Schema(positive={value})",
    ) -> np.ndarray:
        self._blank(values, source, locate, blank_fix)
        if self.positive is not None:
            return self._coded(values, source, locate)
        # a 0/1 target holds numbers (True and False count as 1 and 0); text, even "1", is text, and the sheet's
        # (Survived=1) would not count it: it is coded with `positive`, or recoded
        text = values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        numbers = pd.to_numeric(values.where(~text), errors="coerce")
        if text.any():
            first = int(text.argmax())
            levels = _distinct(values)
            example = shown(values.iloc[first])
            hint = (
                f"recode it to 0/1, or name the value that counts as 1 with {positive_option.format(value=example)}"
                if len(levels) == 2
                else f"it holds {len(levels)} different values ({', '.join(map(shown, levels[:6]))}"
                f"{' ...' if len(levels) > 6 else ''}); recode it to 0/1 or choose another target"
            )
            raise DataError(
                f"{source}: target {values.name} is the column to predict and must hold 0 or 1, but {locate(first)} holds "
                f"text {example}; {hint}"
            )
        target = numbers.astype("float64")
        bad = ~target.isin([0, 1]).to_numpy()
        if bad.any():
            first = int(bad.argmax())
            raise DataError(
                f"{source}: target {values.name} must be 0 or 1, but {locate(first)} holds {shown(values.iloc[first])}, "
                f"not 0 or 1; {value_fix or 'recode it to 0/1'}"
            )
        return target.to_numpy(dtype=np.float64)

    def _coded(self, values: pd.Series, source: str, locate: Callable[[int], str]) -> np.ndarray:
        """1 where the target is `positive`, 0 where it is the one other value; a DataError otherwise."""
        levels = _distinct(values)
        listed = ", ".join(map(shown, levels[:6])) + (" ..." if len(levels) > 6 else "")
        positive = self.is_positive(values, source=source, locate=locate)
        if not positive.any():
            raise DataError(
                f"{source}: target {values.name} never holds {shown(self.positive)} (it holds {listed}); give one of its "
                "values, exactly as written (text is compared with its case), as the one that counts as 1"
            )
        if len(levels) != 2:
            raise DataError(
                f"{source}: target {values.name} holds {len(levels)} different values ({listed}), but a target coded by "
                "its positive value needs exactly two; recode it to 0/1 or keep only the rows of two values"
            )
        return positive.astype(np.float64)

    def excel_code(self, ref: str, *, array: bool = False) -> str:
        if self.positive is None:
            return ref
        test = self._excel_is_positive(ref)
        return f"--{excel.atom(test)}" if array else excel.IF(test, 1, 0)

    def _excel_is_positive(self, ref: str) -> str:
        if isinstance(self.positive, str):  # text, exactly: a number's text as the spreadsheet writes it (ref&"")
            return excel.EXACT(f"{ref}&\"\"", excel.literal(self.positive))
        return f"{ref}={excel.literal(_literal_number(self.positive))}"

    @property
    def array_scores(self) -> bool:
        return isinstance(self.positive, str)

    def describe_coding(self) -> str:
        if self.positive is None:
            return ""
        return f" (1 where {self.column} is {excel.literal(self.positive)}, else 0)"

    # -- scores and the submission --------------------------------------------------------------------

    def classify(self, pred: Any) -> np.ndarray:
        return classify(pred)

    def excel_classify(self, pred: str) -> str:
        return excel.IF(f"{pred}>{THRESHOLD!r}", 1, 0)

    def accuracy(self, pred: Any, y: Any) -> float:
        return accuracy(pred, y)

    def excel_accuracy(self, preds: str, targets: str, count: Any, among: str | None = None) -> str:
        """The share of rows whose class (pred>0.5) is the row's target; `among`, an array test such as "V4:V9=0",
        keeps only the rows where it holds, `count` of them."""
        is_one = f"({targets}=1)" if self.positive is None else excel.atom(self._excel_is_positive(targets))
        agree = f"(({preds}>{THRESHOLD!r})={is_one})"
        rows = f"--{agree}" if among is None else f"({among})*{agree}"
        return f"{excel.SUMPRODUCT(rows)}/{count}"

    def submission(self, pred: Any) -> np.ndarray:
        """What the submission writes for each prediction: its class, an integer 0 or 1."""
        return classify(pred)

    def describe_submission(self, written: pd.Series) -> str:
        """What a submission column holds, in words: "112 predicted Survived=1" (and what 1 means, for a coded one)."""
        meaning = "" if self.positive is None else f" (1: {written.name} {self.positive})"
        return f"{int(written.sum())} predicted {written.name}=1{meaning}"


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


def _literal_number(value: Any) -> Any:
    number = float(value)
    return int(number) if number.is_integer() else number


def _distinct(values: pd.Series) -> list[Any]:
    """The column's distinct values, numbers first, each as it is (text keeps its case)."""
    seen = {(isinstance(v, str), v if isinstance(v, str) else _as_float(v)) for v in values.dropna()}
    return [v for _, v in sorted(seen, key=lambda kv: (kv[0], kv[1]))]


TARGETS: dict[str, type[Target]] = {Binary.kind: Binary}


def target_of(schema: Any) -> Target:
    """The schema's target, of its kind."""
    return TARGETS["binary"](schema.target, positive=schema.positive)
