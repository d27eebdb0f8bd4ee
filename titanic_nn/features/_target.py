"""The target: what the column to predict holds, how its values are coded for the models, in pandas and as Excel text,
its default loss, its metrics and how a prediction is written to the submission. One object, asked by every reader.

A binary target (the Titanic's Survived) holds 0 and 1, or two values of which `positive` is the one coded 1; a
regression target holds numbers, which the models predict divided by a scale learned from the training rows.
`TARGETS` is the registry of kinds; `target_kind` says which a schema's target is (its `task`, else inferred).
Values are compared as what they are: text as text, exactly (`EXACT`, never Excel's `=`, which ignores case),
numbers as numbers. A `positive` given as text ("yes", or "1" from the command line) is compared with each
value's text (a number's text as a spreadsheet shows it, `text_of`); one given as a number, with numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Callable, ClassVar

from .. import excel
from .._lazy import numpy as np
from .._lazy import pandas as pd
from .._plain import shown
from ..errors import DataError

__all__ = [
    "Target", "Binary", "Regression", "Multiclass", "Multilabel", "TARGETS", "THRESHOLD", "SCORE_LABELS", "ScoreRanges", "target_of",
    "target_kind", "accuracy", "classify", "binary_values_problem", "text_of_level",
]

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


# What each score is called where a person reads it (the results table, the sheet's labels).
SCORE_LABELS = {"accuracy": "accuracy", "rmse": "RMSE", "mae": "MAE", "r2": "R²", "logloss": "log loss"}


@dataclass(frozen=True)
class ScoreRanges:
    """Where a score's formula finds what it reads on a model sheet: the predictions (one column, or the K
    probabilities' block), the target column as the file holds it, the cell of the target's statistic, and for a
    target of K outputs its one-hot block and the predicted classes' column."""

    preds: str
    targets: str
    statistic: str | None = None
    coded: str | None = None
    classes: str | None = None


# The scores where a larger value is better (the others are errors: smaller is better).
HIGHER_IS_BETTER = frozenset({"accuracy", "r2"})


@dataclass(frozen=True)
class Target:
    """The column to predict (`column`), of its kind; subclasses say how it is coded, scored and submitted.

    What a Target learns from the training rows (`fitted`) is a field of the dataclass left None until then: a
    regression target's scale, a labelled binary target's other label. `state` is that, as plain values.
    """

    column: str
    kind: ClassVar[str]
    # the loss models train with unless told otherwise
    default_loss: ClassVar[str]
    # the scores of a prediction, in the order they are shown; the first chooses the submission's model
    metrics: ClassVar[tuple[str, ...]]
    # whether its values are classes (cross-validation's folds keep each class's share)
    classes: ClassVar[bool] = True
    # whether a model sheet gives each row's predicted class a column of its own (`excel_classify_row`)
    class_column: ClassVar[bool] = False

    def code(
        self, values: pd.Series, *, source: str, locate: Callable[[int], str], blank_fix: str = "", value_fix: str = "",
        positive_option: str = "Schema(positive={value})",
    ) -> np.ndarray:
        """The target as a float64 number per row from the file's values (before any scaling: `model_values`); a
        DataError names the first value it cannot code.

        `locate(i)` names row position i ("row 4 (PassengerId 4)", "line 5"); the fixes are the caller's words.
        """
        raise NotImplementedError

    def excel_code(self, ref: str, *, array: bool = False, statistic: str | None = None) -> str:
        """The model's target as a formula of the cell `ref` holding the file's value, or with `array` as an array
        expression of the range `ref`; `statistic` is the cell of the learned statistic (`excel_statistic`)."""
        raise NotImplementedError

    def describe_coding(self) -> str:
        """How the sheet codes the target, for its about sheet ("" when it holds the model's numbers)."""
        return ""

    @property
    def coded_on_sheet(self) -> bool:
        """Whether the sheet holds the file's values and its formulas code them (text, labels), rather than the coded
        numbers themselves (0/1, or a regression target's numbers, which its formulas scale)."""
        return False

    @property
    def array_scores(self) -> bool:
        """Whether a score cell over the target column must be an array formula: a function applied to each value of
        a range (EXACT, ABS) is evaluated row by row only in one, in every engine (Gnumeric gives #VALUE! otherwise)."""
        return False

    # -- what is learned from the training rows ------------------------------------------------------

    def fitted(self, coded: np.ndarray, values: pd.Series) -> "Target":
        """The target with what it learns from the training rows' coded numbers and file values (itself if nothing)."""
        return self

    def state(self) -> dict[str, Any]:
        """What `fitted` learned, as plain values ({} when nothing), to save and `loaded` back."""
        return {}

    def loaded(self, state: Any) -> "Target":
        """The target with a saved `state`; a DataError when it is not one this kind saves."""
        if state in (None, {}):
            return self
        raise DataError(f"the saved target state {shown(state)} is not one a {self.kind} target saves")

    def model_values(self, coded: np.ndarray) -> np.ndarray:
        """What the models predict, from the coded numbers: the coded numbers themselves unless a statistic scales them."""
        return np.asarray(coded, dtype=np.float64)

    @property
    def statistic(self) -> float | None:
        """The learned number the sheet's formulas code the target with, shown in a cell (None: there is none)."""
        return None

    def excel_statistic(self, whole: str) -> str | None:
        """`statistic` as a formula of the whole target column of the training rows."""
        return None

    def check_model(self, model: Any) -> None:
        """Refuse, in one line, a model whose output cannot predict this target (one output unit, raw or a sigmoid)."""
        if getattr(model, "outputs", 1) != 1 or getattr(model, "output", "raw") == "softmax":
            raise DataError(
                f"target {self.column} is one number per row ({self.kind}), but the model has "
                f"{getattr(model, 'outputs', 1)} output(s) through {model.output!r}"
            )

    # -- scores and the submission --------------------------------------------------------------------

    def score(self, key: str, pred: Any, y: Any) -> float:
        """The score `key` (one of `metrics`) of the models' predictions `pred` of the model values `y`."""
        raise NotImplementedError

    def score_size(self, key: str, pred: Any, y: Any) -> float | None:
        """The size of the terms behind the score, where it is larger than the score (verify's tolerance); None: the
        score's own."""
        return None

    def excel_score(self, key: str, ranges: ScoreRanges, count: Any, among: str | None = None) -> str:
        """`score` as a formula of the sheet's ranges (`ScoreRanges`); `among`, an array test such as "V4:V9=0", keeps
        only the rows where it holds, `count` of them."""
        raise NotImplementedError

    # -- what a target of several outputs adds to a model sheet ------------------------------------------

    @property
    def outputs(self) -> int:
        """How many numbers a model predicts per row for this target (one; K for several classes)."""
        return 1

    def model_for(self, model: Any) -> Any:
        """The model this target trains: `model` itself, once `check_model` accepts it (a target of several outputs
        gives it that many)."""
        self.check_model(model)
        return model

    def prediction_names(self) -> list[str] | None:
        """The headers of the model's K prediction columns (None: one column, "Preds")."""
        return None

    def coded_names(self) -> list[str]:
        """The headers of the columns a model sheet codes the target into, right of the predictions ([]: none, the
        formulas code it where they read it)."""
        return []

    def excel_coded(self, ref: str, j: int) -> str:
        """The formula of coded column j of the row whose target cell is `ref`."""
        raise NotImplementedError

    def excel_classify_row(self, preds: str) -> str:
        """The formula of a row's predicted class from its predictions' row range, for a target of `class_column`."""
        raise NotImplementedError

    def classes_of(self, pred: Any) -> Any:
        """Each row's predicted class, as the class column holds it."""
        raise NotImplementedError

    def submission(self, pred: Any) -> np.ndarray:
        """What the submission writes for each prediction."""
        raise NotImplementedError

    def excel_submission(self, pred: str, statistic: str | None = None) -> str:
        """`submission` as a formula of a prediction's cell."""
        raise NotImplementedError

    def submission_problem(self, values: pd.Series) -> str | None:
        """Why `values` are not a submission's column of this target (None when they are)."""
        raise NotImplementedError

    def describe_submission(self, written: pd.Series) -> str:
        """What a submission column holds, in words, for the run's last lines."""
        raise NotImplementedError

    @staticmethod
    def better(key: str, a: float, b: float) -> bool:
        """Whether score `a` is better than `b` (a larger accuracy or R², a smaller error)."""
        return a > b if key in HIGHER_IS_BETTER else a < b


def _blank(values: pd.Series, source: str, locate: Callable[[int], str], fix: str) -> None:
    blank = values.isna()  # only an empty cell (or a blank marker, read as one) is blank
    if blank.any():
        first = int(blank.to_numpy().argmax())
        where = locate(first)
        preposition = "on" if where.startswith("line") else "at"
        raise DataError(
            f"{source}: target {values.name} is blank in {int(blank.sum())} row(s), first {preposition} {where}; "
            f"{fix or 'give every training row a value, or remove the row'}"
        )


def _sum_over(expression: str, among: str | None) -> str:
    """The sum of an array expression over the rows `among` keeps (all without it)."""
    return excel.SUMPRODUCT(f"--{excel.atom(expression)}" if among is None else f"({among})*{excel.atom(expression)}")


@dataclass(frozen=True)
class Binary(Target):
    """0 and 1, or two values of which `positive` is coded 1 and the other (`negative`, learned) 0. Predictions are
    classes above 0.5; the submission writes 0/1, or the file's own two values for a target coded by `positive`."""

    positive: Any = None
    negative: Any = None
    kind: ClassVar[str] = "binary"
    default_loss: ClassVar[str] = "mse"
    metrics: ClassVar[tuple[str, ...]] = ("accuracy",)

    # -- coding ----------------------------------------------------------------------------------------

    def is_positive(self, values: pd.Series, *, source: str = "the data", locate: Callable[[int], str] = str) -> np.ndarray:
        """True where a value is `positive`: its text exactly, or, for a positive given as a number, the same number.

        A value the sheet would compare otherwise is refused, naming it: a number whose text a spreadsheet writes
        otherwise than Python, or one equal to a numeric positive in 15 significant digits but not exactly."""
        from ._ops import number_text_problem, refuse_equal_to_15_digits_only, text_of  # (pandas: not at --help)

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
        _blank(values, source, locate, blank_fix or "give every training row a 0 or 1, or remove the row")
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
                f"{' ...' if len(levels) > 6 else ''}); recode it to 0/1, choose another target, or predict it as "
                f"several classes (task multiclass, 2 to {Multiclass.MAX_LEVELS} of them)"
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
                f"not 0 or 1; {value_fix or 'recode it to 0/1, or predict its numbers with task regression'}"
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

    def excel_code(self, ref: str, *, array: bool = False, statistic: str | None = None) -> str:
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

    @property
    def coded_on_sheet(self) -> bool:
        return self.positive is not None

    def describe_coding(self) -> str:
        if self.positive is None:
            return ""
        return f" (1 where {self.column} is {excel.literal(self.positive)}, else 0)"

    # -- what is learned: the other label, which a labelled submission writes ---------------------------

    def fitted(self, coded: np.ndarray, values: pd.Series) -> "Binary":
        if self.positive is None:
            return self
        others = values[np.asarray(coded) == 0]
        if not len(others):
            return self
        other = others.iloc[0]
        return replace(self, negative=other if isinstance(other, str) else _literal_number(other))

    def state(self) -> dict[str, Any]:
        return {} if self.negative is None else {"kind": self.kind, "negative": self.negative}

    def loaded(self, state: Any) -> "Binary":
        if state in (None, {}):
            return self
        negative = state.get("negative") if isinstance(state, dict) else None
        if (
            not isinstance(state, dict) or set(state) != {"kind", "negative"} or state["kind"] != self.kind
            or self.positive is None or isinstance(negative, bool) or not isinstance(negative, (str, int, float))
            or isinstance(negative, float) and not math.isfinite(negative) or negative == self.positive
        ):
            raise DataError(f"the saved target state {shown(state)} is not a binary target's other value")
        return replace(self, negative=negative)

    # -- scores and the submission --------------------------------------------------------------------

    def classify(self, pred: Any) -> np.ndarray:
        return classify(pred)

    def excel_classify(self, pred: str) -> str:
        return excel.IF(f"{pred}>{THRESHOLD!r}", 1, 0)

    def accuracy(self, pred: Any, y: Any) -> float:
        return accuracy(pred, y)

    def score(self, key: str, pred: Any, y: Any) -> float:
        return accuracy(pred, y)

    def excel_score(self, key: str, ranges: ScoreRanges, count: Any, among: str | None = None) -> str:
        return self.excel_accuracy(ranges.preds, ranges.targets, count, among)

    def excel_accuracy(self, preds: str, targets: str, count: Any, among: str | None = None) -> str:
        """The share of rows whose class (pred>0.5) is the row's target."""
        is_one = f"({targets}=1)" if self.positive is None else excel.atom(self._excel_is_positive(targets))
        return f"{_sum_over(f'({preds}>{THRESHOLD!r})={is_one}', among)}/{count}"

    @property
    def labelled(self) -> bool:
        """Whether the submission writes the file's own two values (`positive`, `negative`) rather than 1 and 0."""
        return self.positive is not None and self.negative is not None

    def submission(self, pred: Any) -> np.ndarray:
        """Each prediction's class: an integer 0 or 1, or for a labelled target the file's own value."""
        classes = classify(pred)
        if not self.labelled:
            return classes
        out = np.empty(len(classes), dtype=object)
        out[:] = [self.positive if c else self.negative for c in classes.tolist()]
        return out

    def excel_submission(self, pred: str, statistic: str | None = None) -> str:
        if not self.labelled:
            return self.excel_classify(pred)
        return excel.IF(f"{pred}>{THRESHOLD!r}", excel.literal(self.positive), excel.literal(self.negative))

    def submission_problem(self, values: pd.Series) -> str | None:
        if self.labelled:
            allowed = [self.positive, self.negative]
            bad = ~values.map(lambda v: any(type(v) is type(a) and v == a for a in allowed) or (
                not isinstance(v, (str, bool)) and not isinstance(allowed[0], str) and v in allowed)).to_numpy(dtype=bool)
            if bad.any():
                first = int(bad.argmax())
                return f"must be {shown(self.positive)} or {shown(self.negative)}, but row {first + 1} holds {shown(values.iloc[first])}"
            return None
        return binary_values_problem(values)

    def describe_submission(self, written: pd.Series) -> str:
        """"112 predicted Survived=1", or for a labelled target "112 predicted Survived=yes"."""
        if self.labelled:
            count = sum(1 for v in written.tolist() if v == self.positive and type(v) is type(self.positive))
            return f"{count} predicted {written.name}={self.positive}"
        meaning = "" if self.positive is None else f" (1: {written.name} {self.positive})"
        return f"{int(written.sum())} predicted {written.name}=1{meaning}"


def binary_values_problem(values: pd.Series) -> str | None:
    """Why a 0/1 submission column is not one (None when it is): integers 0 or 1, never 0.0/1.0, which Kaggle scores
    as wrong."""
    if not (pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        return (
            f"must be integers 0 or 1, not {values.dtype} values (Kaggle scores 0.0/1.0 as wrong); threshold the "
            "predictions into integer classes first"
        )
    bad = ~values.isin([0, 1]).to_numpy()
    if bad.any():
        first = int(bad.argmax())
        return f"must be 0 or 1, but row {first + 1} holds {shown(values.iloc[first])}"
    return None


@dataclass(frozen=True)
class Regression(Target):
    """A number to predict (a price, a measurement): squared error, scored by RMSE, MAE and R².

    The models predict the target divided by `scale`, the training rows' largest absolute value (learned, shown
    in the Max cell above the target column), so that gradient descent and Solver see numbers near 1 whatever the
    target's unit; every prediction is multiplied back by it (the scores, the submission).
    """

    scale: float | None = None
    kind: ClassVar[str] = "regression"
    default_loss: ClassVar[str] = "mse"
    metrics: ClassVar[tuple[str, ...]] = ("rmse", "mae", "r2")
    classes: ClassVar[bool] = False

    def code(
        self, values: pd.Series, *, source: str, locate: Callable[[int], str], blank_fix: str = "", value_fix: str = "",
        positive_option: str = "Schema(positive={value})",
    ) -> np.ndarray:
        _blank(values, source, locate, blank_fix or "give every training row a number, or remove the row")
        numbers = values.map(lambda v: None if isinstance(v, bool) else _as_float(v))  # a number's text too
        bad = numbers.isna().to_numpy() | ~np.isfinite(numbers.astype("float64").fillna(0).to_numpy())
        if bad.any():
            first = int(bad.argmax())
            raise DataError(
                f"{source}: target {values.name} is predicted as a number (task regression), but {locate(first)} "
                f"holds {shown(values.iloc[first])}, not a finite number; put a number there, or remove the row"
            )
        from .._data import LARGEST_NUMBER, SMALLEST_NUMBER, unheld_numbers

        coded = numbers.astype("float64").to_numpy()
        bad = unheld_numbers(np.abs(coded))  # the rule every numeric column of the data meets (`check_numbers`)
        if bad.any():
            first = int(bad.argmax())
            raise DataError(
                f"{source}: target {values.name} holds {shown(values.iloc[first])} at {locate(first)}, beyond "
                f"±{LARGEST_NUMBER:g} or below {SMALLEST_NUMBER:.1e}, which every engine holds otherwise; rescale the target"
            )
        return coded

    def excel_code(self, ref: str, *, array: bool = False, statistic: str | None = None) -> str:
        if statistic is None:
            raise ValueError("a regression target is coded with its scale cell")
        return f"{ref}/{statistic}"

    def describe_coding(self) -> str:
        return f" (divided by its training rows' largest absolute value, {shown(self.scale)}, in the Max cell above it)"

    @property
    def array_scores(self) -> bool:
        return True  # MAE applies ABS to each row

    def fitted(self, coded: np.ndarray, values: pd.Series) -> "Regression":
        coded = np.asarray(coded, dtype=np.float64)
        scale = float(max(coded.max(), -coded.min()))
        if scale == 0:
            raise DataError(
                f"target {self.column} is 0 on every training row, so there is nothing to predict; choose another target"
            )
        return replace(self, scale=scale)

    def state(self) -> dict[str, Any]:
        return {} if self.scale is None else {"kind": self.kind, "scale": self.scale}

    def loaded(self, state: Any) -> "Regression":
        scale = state.get("scale") if isinstance(state, dict) else None
        if (
            not isinstance(state, dict) or set(state) != {"kind", "scale"} or state["kind"] != self.kind
            or isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0
        ):
            raise DataError(f"the saved target state {shown(state)} is not a regression target's scale (a positive number)")
        return replace(self, scale=float(scale))

    def model_values(self, coded: np.ndarray) -> np.ndarray:
        return np.asarray(coded, dtype=np.float64) / self._scale()

    def _scale(self) -> float:
        if self.scale is None:
            raise DataError(f"regression target {self.column} has no scale yet; fit the features on training rows first")
        return self.scale

    @property
    def statistic(self) -> float | None:
        return self.scale

    def excel_statistic(self, whole: str) -> str | None:
        return excel.MAX(excel.MAX(whole), f"-{excel.MIN(whole)}")

    def model_for(self, model: Any) -> Any:
        """`model`, a net's default head made linear: the lesson's sum of two ReLUs is never negative, and a number to
        predict may be."""
        from ..nn import with_signed_output

        self.check_model(model)
        return with_signed_output(model)

    def check_model(self, model: Any) -> None:
        if getattr(model, "output", "raw") != "raw" or getattr(model, "outputs", 1) != 1:
            raise DataError(
                f"target {self.column} is a number to predict (task regression), but the model has output="
                f"{model.output!r}, which stays between 0 and 1; use the raw output (--output raw)"
            )

    def unscaled(self, pred: Any) -> np.ndarray:
        """Predictions (or model values) in the target's own unit."""
        return np.asarray(pred, dtype=np.float64) * self._scale()

    # The scores are computed on the models' own values (the target over its scale), and an error is multiplied
    # back into the target's unit at the end: the squares of a target of 1e-300, or of 1e99, neither underflow nor
    # overflow, and a prediction and a target close to each other are compared at the size of the scale.

    def score(self, key: str, pred: Any, y: Any) -> float:
        p, t = np.asarray(pred, dtype=np.float64).reshape(-1), np.asarray(y, dtype=np.float64).reshape(-1)
        if p.shape != t.shape:
            raise ValueError(f"predictions have {p.size} values but the target has {t.size}")
        error = p - t
        n = len(t)
        if key == "rmse":
            return float(self._scale() * np.sqrt((error * error).sum() / n))
        if key == "mae":
            return float(self._scale() * (np.abs(error).sum() / n))
        mean = t.sum() / n
        total, residual = float(((t - mean) * (t - mean)).sum()), float((error * error).sum())
        if total == 0:  # scikit-learn's r2_score: 1 for a perfect fit of a constant, else 0
            return 1.0 if residual == 0 else 0.0
        return 1.0 - residual / total

    def score_size(self, key: str, pred: Any, y: Any) -> float | None:
        """The size of the terms behind a score (verify's tolerance): an error's, the scale times the largest value it
        is the difference of; R²'s, the squares of those sums over the spread's."""
        p, t = np.abs(np.asarray(pred, dtype=np.float64).reshape(-1)), np.asarray(y, dtype=np.float64).reshape(-1)
        if key in ("rmse", "mae"):
            return float(self._scale() * max(p.max(initial=0.0), np.abs(t).max(initial=0.0)))
        total = float(((t - t.mean()) ** 2).sum()) if len(t) else 0.0
        return float(((p + np.abs(t)) ** 2).sum() / total) if total > 0 else None

    def excel_score(self, key: str, ranges: ScoreRanges, count: Any, among: str | None = None) -> str:
        scale, targets = ranges.statistic, f"({ranges.targets}/{ranges.statistic})"
        error = f"({ranges.preds}-{targets})"
        if key == "rmse":
            squares = _sum_over(f"{error}*{error}", among)
            return f"{scale}*{excel.SQRT(f'{squares}/{count}')}"
        if key == "mae":
            return f"{scale}*({_sum_over(excel.ABS(error), among)}/{count})"
        mean = f"{_sum_over(targets, among)}/{count}"
        spread = f"({targets}-{mean})"
        total, residual = _sum_over(f"{spread}*{spread}", among), _sum_over(f"{error}*{error}", among)
        return excel.IF(f"{total}=0", excel.IF(f"{residual}=0", 1, 0), f"1-{residual}/{total}")

    def submission(self, pred: Any) -> np.ndarray:
        """Each prediction in the target's own unit."""
        return self.unscaled(pred)

    def excel_submission(self, pred: str, statistic: str | None = None) -> str:
        return f"{pred}*{statistic}"

    def submission_problem(self, values: pd.Series) -> str | None:
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        bad = ~np.isfinite(values.to_numpy(dtype=np.float64)) if numeric else np.ones(len(values), dtype=bool)
        if bad.any():
            first = int(bad.argmax())
            return f"must be finite numbers, but row {first + 1} holds {shown(values.iloc[first])}"
        return None

    def describe_submission(self, written: pd.Series) -> str:
        values = written.to_numpy(dtype=np.float64)
        return f"{written.name} predicted from {shown(float(values.min()))} to {shown(float(values.max()))}"


@dataclass(frozen=True)
class SeveralOutputs(Target):
    """A target of K model values per row (`outputs`), which ends every model it trains in K outputs through `final`
    under `final_loss`: the rule of several classes and of several labels, once."""

    final: ClassVar[str]
    final_loss: ClassVar[str]
    # what the target is and how its models end, in words ("{k}" the number of outputs)
    what: ClassVar[str]
    ending: ClassVar[str]

    def _fits(self, model: Any) -> bool:
        return model.outputs == self.outputs and model.output == self.final and model.loss_name == self.final_loss

    def model_for(self, model: Any) -> Any:
        from ..nn import DEFAULT_LOSS, with_outputs

        if self._fits(model):
            return model
        if model.outputs != 1 or model.output != "raw" or model.loss not in (None, self.final_loss):
            k = self.outputs
            raise DataError(
                f"target {self.column} is {self.what.format(k=k)} (task {self.kind}), so the models end in "
                f"{self.ending.format(k=k)}; leave out the model's output and loss settings"
            )
        # the loss named only where it is not the output's own (a softmax's cross-entropy goes without saying)
        loss = None if DEFAULT_LOSS.get(self.final) == self.final_loss else self.final_loss
        return with_outputs(model, self.outputs, self.final, loss)

    def check_model(self, model: Any) -> None:
        if not self._fits(model):
            raise DataError(
                f"target {self.column} is {self.what.format(k=self.outputs)}, but the model has {model.outputs} output(s) "
                f"through {model.output!r}; give it to train_model, which ends it in {self.outputs} {self.final} outputs"
            )


@dataclass(frozen=True)
class Multiclass(SeveralOutputs):
    """One of K levels (text, or numbers given `task="multiclass"`), K from 2 to `MAX_LEVELS`: a softmax over K outputs,
    cross-entropy, scored by accuracy and log loss; the submission writes the predicted level.

    `levels` are learned from the training rows, sorted (numbers first, text exactly, case included), and a row's
    model values are its one-hot K; a value of another row that training never saw is refused.
    """

    levels: tuple[Any, ...] | None = None
    kind: ClassVar[str] = "multiclass"
    default_loss: ClassVar[str] = "crossentropy"
    metrics: ClassVar[tuple[str, ...]] = ("accuracy", "logloss")
    class_column: ClassVar[bool] = True
    final: ClassVar[str] = "softmax"
    final_loss: ClassVar[str] = "crossentropy"
    what: ClassVar[str] = "one of {k} classes"
    ending: ClassVar[str] = "{k} outputs through a softmax"
    MAX_LEVELS: ClassVar[int] = 50
    # the fewest levels inferred as several classes (two are a binary target's)
    MIN_INFERRED: ClassVar[int] = 3

    def code(
        self, values: pd.Series, *, source: str, locate: Callable[[int], str], blank_fix: str = "", value_fix: str = "",
        positive_option: str = "Schema(positive={value})",
    ) -> np.ndarray:
        _blank(values, source, locate, blank_fix or "give every training row its class, or remove the row")
        levels = self.levels if self.levels is not None else tuple(_distinct(values))
        keys = [_level_key(v) for v in values.tolist()]
        index = {_level_key(level): j for j, level in enumerate(levels)}
        unknown = [position for position, key in enumerate(keys) if key not in index]
        if unknown:
            first = unknown[0]
            listed = ", ".join(map(shown, levels[:8])) + (" ..." if len(levels) > 8 else "")
            raise DataError(
                f"{source}: target {values.name} holds {shown(values.iloc[first])} at {locate(first)}, a class the "
                f"training rows never held ({listed}); a model predicts only the classes it was trained on"
            )
        if not 2 <= len(levels) <= self.MAX_LEVELS:
            raise DataError(
                f"{source}: target {values.name} holds {len(levels)} different values, but several classes are 2 to "
                f"{self.MAX_LEVELS}; choose another target, or predict its numbers with task regression"
            )
        if self.levels is None:  # the sheet compares numbered classes with =, which takes 15 digits for all
            from ._ops import refuse_equal_to_15_digits_only

            numbers = [level for level in levels if not isinstance(level, str)]
            for j, number in enumerate(numbers[:-1]):
                refuse_equal_to_15_digits_only(
                    numbers[j + 1:], float(number), holder=f"{source}: target {values.name}",
                    locate=lambda i: "another row", against="the class ", fix="round the target",
                )
        return np.array([index[key] for key in keys], dtype=np.float64)

    def fitted(self, coded: np.ndarray, values: pd.Series) -> "Multiclass":
        return replace(self, levels=tuple(_distinct(values)))

    def state(self) -> dict[str, Any]:
        return {} if self.levels is None else {"kind": self.kind, "levels": list(self.levels)}

    def loaded(self, state: Any) -> "Multiclass":
        levels = state.get("levels") if isinstance(state, dict) else None
        if (
            not isinstance(state, dict) or set(state) != {"kind", "levels"} or state["kind"] != self.kind
            or not isinstance(levels, list) or not 2 <= len(levels) <= self.MAX_LEVELS
            or any(isinstance(v, bool) or not isinstance(v, (str, int, float)) for v in levels)
            or any(isinstance(v, float) and not math.isfinite(v) for v in levels)
            or len({_level_key(v) for v in levels}) != len(levels)
        ):
            raise DataError(f"the saved target state {shown(state)} is not a multi-class target's levels (2 to 50)")
        return replace(self, levels=tuple(levels))

    @property
    def _levels(self) -> tuple[Any, ...]:
        if self.levels is None:
            raise DataError(f"target {self.column} has no classes yet; fit the features on training rows first")
        return self.levels

    @property
    def outputs(self) -> int:
        return len(self._levels)

    def model_values(self, coded: np.ndarray) -> np.ndarray:
        return np.eye(self.outputs)[np.asarray(coded, dtype=np.int64)]

    def describe_coding(self) -> str:
        return f" (one column per class, 1 where {self.column} is that class: EXACT for text)"

    @property
    def array_scores(self) -> bool:
        return True  # EXACT and LN applied to each row

    @property
    def coded_on_sheet(self) -> bool:
        return True

    # -- the sheet's columns ------------------------------------------------------------------------------

    def prediction_names(self) -> list[str]:
        return [f"P({text_of_level(level)})" for level in self._levels]

    def coded_names(self) -> list[str]:
        return [f"{self.column}={text_of_level(level)}" for level in self._levels]

    def excel_coded(self, ref: str, j: int) -> str:
        level = self._levels[j]
        if isinstance(level, str):
            return excel.IF(excel.EXACT(f"{ref}&\"\"", excel.literal(level)), 1, 0)
        return excel.IF(f"{ref}={excel.literal(_literal_number(level))}", 1, 0)

    def _excel_levels(self) -> list[str]:
        return [excel.literal(level if isinstance(level, str) else _literal_number(level)) for level in self._levels]

    def excel_classify_row(self, preds: str) -> str:
        """The level of the row's largest probability, the first of equals (MATCH finds the first), as Python's argmax."""
        return _choose(excel.MATCH(excel.MAX(preds), preds, 0), self._excel_levels())

    def classes_of(self, pred: Any) -> list[Any]:
        best = np.asarray(pred, dtype=np.float64).argmax(-1)
        return [self._levels[int(j)] for j in best]

    # -- scores and the submission --------------------------------------------------------------------

    def score(self, key: str, pred: Any, y: Any) -> float:
        pred, y = np.asarray(pred, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if pred.shape != y.shape:
            raise ValueError(f"predictions have shape {pred.shape} but the target {y.shape}")
        if key == "accuracy":
            return float(np.mean(pred.argmax(-1) == y.argmax(-1)))
        from ..nn import LOSSES

        return float(LOSSES["crossentropy"].mean(pred, y))

    def excel_score(self, key: str, ranges: ScoreRanges, count: Any, among: str | None = None) -> str:
        if key == "accuracy":  # the predicted class is the row's class, as text exactly
            as_text = '&""'  # a number's text, as a spreadsheet writes it
            agree = excel.EXACT(f"{ranges.classes}{as_text}", f"{ranges.targets}{as_text}")
            return f"{_sum_over(agree, among)}/{count}"
        # -log of each row's probability of its class, held at 1e-12 and above as Python's
        from ..nn import LOSSES

        eps = excel.number(LOSSES["crossentropy"].EPS)
        own = excel.MMULT(f"{ranges.coded}*{ranges.preds}", excel.ones(self.outputs))
        return f"-{_sum_over(excel.LN(excel.IF(f'{own}<{eps}', eps, own)), among)}/{count}"

    def submission(self, pred: Any) -> np.ndarray:
        """Each row's predicted level, as the file holds it."""
        out = np.empty(len(pred), dtype=object)
        out[:] = self.classes_of(pred)
        return out

    def excel_submission(self, pred: str, statistic: str | None = None) -> str:
        return self.excel_classify_row(pred)

    def submission_problem(self, values: pd.Series) -> str | None:
        known = {_level_key(level) for level in self._levels}
        bad = [position for position, v in enumerate(values.tolist()) if _level_key(v) not in known]
        if bad:
            return f"must be one of the classes, but row {bad[0] + 1} holds {shown(values.iloc[bad[0]])}"
        return None

    def describe_submission(self, written: pd.Series) -> str:
        counts = Counter(_level_key(value) for value in written.tolist())
        parts = [f"{counts.get(_level_key(level), 0)} {text_of_level(level)}" for level in self._levels]
        return f"{written.name} predicted: {', '.join(parts)}"


@dataclass(frozen=True)
class Multilabel(SeveralOutputs):
    """Several labels: `columns`, each 0 or 1, predicted at once (a multi-hot target). Each has its own sigmoid output
    and binary cross-entropy, and a row's loss is their sum; scored by the labels' accuracy (each label's class at
    0.5 against its 0/1) and log loss; the submission writes every column. `column` names them all, for messages."""

    columns: tuple[str, ...] = ()
    kind: ClassVar[str] = "multilabel"
    default_loss: ClassVar[str] = "logloss"
    metrics: ClassVar[tuple[str, ...]] = ("accuracy", "logloss")
    classes: ClassVar[bool] = False  # several 0/1 columns: no one class per row to keep the share of
    final: ClassVar[str] = "sigmoid"
    final_loss: ClassVar[str] = "logloss"
    what: ClassVar[str] = "{k} labels"
    ending: ClassVar[str] = "{k} outputs, each through a sigmoid under log loss"

    def code(
        self, values: Any, *, source: str, locate: Callable[[int], str], blank_fix: str = "", value_fix: str = "",
        positive_option: str = "Schema(positive={value})",
    ) -> np.ndarray:
        # each label's column by the 0/1 rule; one column alone, as a reader checks it, is coded on its own
        columns = [values] if isinstance(values, pd.Series) else [values[name] for name in values.columns]
        labels = [
            Binary(str(column.name)).code(
                column, source=source, locate=locate, blank_fix=blank_fix,
                value_fix=value_fix or "each label's column holds 0 or 1",
            )
            for column in columns
        ]
        return labels[0] if isinstance(values, pd.Series) else np.column_stack(labels)

    @property
    def outputs(self) -> int:
        return len(self.columns)

    def prediction_names(self) -> list[str]:
        return [f"P({name})" for name in self.columns]

    # -- scores and the submission --------------------------------------------------------------------

    def score(self, key: str, pred: Any, y: Any) -> float:
        pred, y = np.asarray(pred, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if pred.shape != y.shape:
            raise ValueError(f"predictions have shape {pred.shape} but the target {y.shape}")
        if key == "accuracy":  # the share of the labels, over every row, whose class at 0.5 is right
            return float(np.mean((pred > THRESHOLD) == (y == 1)))
        from ..nn import LOSSES

        return float(LOSSES["logloss"].mean(pred, y))

    def score_size(self, key: str, pred: Any, y: Any) -> float | None:
        """Log loss's, the rows' sizes (`Loss.rows_size`): ln(1 - p) of a p within 1e-11 of 1 moves by 1e-5 with p's
        last bit."""
        if key != "logloss":
            return None
        from ..nn import LOSSES

        pred = np.asarray(pred, dtype=np.float64)
        return float(LOSSES["logloss"].rows_size(pred, np.asarray(y, dtype=np.float64), pred).mean())

    def excel_score(self, key: str, ranges: ScoreRanges, count: Any, among: str | None = None) -> str:
        if key == "accuracy":
            agree = f"(({ranges.preds}>{THRESHOLD!r})=({ranges.coded}=1))"
            return f"{_sum_over(agree, among)}/({count}*{self.outputs})"
        from ..nn import LOSSES

        eps = excel.number(LOSSES["logloss"].EPS)
        top = excel.number(1.0 - LOSSES["logloss"].EPS)
        p = excel.IF(f"{ranges.preds}<{eps}", eps, excel.IF(f"{ranges.preds}>{top}", top, ranges.preds))
        y = ranges.coded
        rows = f"{y}*{excel.LN(p)}+(1-{y})*{excel.LN('1-' + p)}"
        return f"-{_sum_over(rows, among)}/{count}"

    @property
    def array_scores(self) -> bool:
        return True  # LN applied to each cell

    def submission(self, pred: Any) -> np.ndarray:
        """Each label's class: integers 0 or 1, a column per label."""
        return classify(pred)

    def excel_submission(self, pred: str, statistic: str | None = None) -> str:
        return excel.IF(f"{pred}>{THRESHOLD!r}", 1, 0)

    def submission_problem(self, values: Any) -> str | None:
        columns = [values[name] for name in values.columns] if isinstance(values, pd.DataFrame) else [values]
        for column in columns:
            problem = binary_values_problem(column)
            if problem:
                return f"{column.name} {problem}" if isinstance(values, pd.DataFrame) else problem
        return None

    def describe_submission(self, written: Any) -> str:
        frame = written if isinstance(written, pd.DataFrame) else pd.DataFrame(written)
        return "predicted " + ", ".join(f"{name}=1 {int(frame[name].sum())}" for name in frame.columns)


# LibreOffice takes at most 30 arguments in a function call: a CHOOSE of more values chooses among the first 29 and a
# CHOOSE of the rest
CHOOSE_VALUES = 29


def _choose(index: str, values: list[str]) -> str:
    """CHOOSE(index, values...), nested so that no call passes LibreOffice's 30 arguments."""
    if len(values) <= CHOOSE_VALUES + 1:
        return excel.CHOOSE(index, *values)
    rest = _choose(f"{index}-{CHOOSE_VALUES}", values[CHOOSE_VALUES:])
    return excel.CHOOSE(excel.MIN(index, CHOOSE_VALUES + 1), *values[:CHOOSE_VALUES], rest)


def _level_key(value: Any) -> tuple[bool, Any]:
    """How a class is told apart: text by its text, exactly; a number by its value (1 and 1.0 are one class)."""
    if isinstance(value, str):
        return True, value
    number = _as_float(value)
    return False, number if number is not None else value


def text_of_level(level: Any) -> str:
    """A class as a header shows it: text as it is, a whole number without its .0."""
    return level if isinstance(level, str) else shown(_literal_number(level))


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


TARGETS: dict[str, type[Target]] = {cls.kind: cls for cls in (Binary, Regression, Multiclass, Multilabel)}


def target_kind(schema: Any, values: pd.Series | None = None) -> str:
    """The kind of the schema's target: its `task`; else binary when it names a positive value; else, from the
    training rows' values, regression for numbers of more than two distinct values, several classes for text of 3
    to 50 distinct values, binary otherwise (whose coding says what a target of other values needs)."""
    if getattr(schema, "task", None) is not None:
        return schema.task
    if isinstance(schema.target, tuple):
        return Multilabel.kind
    if schema.positive is not None or values is None:
        return Binary.kind
    present = values.dropna()
    numbers = pd.to_numeric(present.map(lambda v: None if isinstance(v, bool) else v), errors="coerce")
    if len(present) and numbers.nunique() > 2 and numbers.notna().mean() > 0.5:
        # numbers, even with a few texts among them (a "n/a" the regression target's coding then names)
        return Regression.kind
    if Multiclass.MIN_INFERRED <= len(_distinct(present)) <= Multiclass.MAX_LEVELS:
        return Multiclass.kind
    return Binary.kind


def target_of(schema: Any, values: pd.Series | None = None) -> Target:
    """The schema's target, of its kind (`target_kind`), with nothing learned yet."""
    kind = target_kind(schema, values)
    if kind == Binary.kind:
        return Binary(schema.target, positive=schema.positive)
    if kind == Multilabel.kind:
        return Multilabel(", ".join(schema.target), columns=tuple(schema.target))
    return TARGETS[kind](schema.target)
