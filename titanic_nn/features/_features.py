"""Features: the scikit-learn-style wrapper over a schema's feature program, learned on training rows only."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from .._data import as_numbers, row_place, source_of
from .._plain import names_cut, shown
from ..errors import DataError, UnseenLevelWarning
from ._ops import Dummies, Fill, GroupFill, Rows, Scale
from ._program import FeatureProgram, compile_schema
from ._presets import preset_schema
from ._schema import MISSING, Schema
from ._target import TARGETS, Target, target_of

__all__ = ["Features", "blanks_marked", "target_values"]

# The statistics' sections every saved Features holds; other ops add theirs (counts, group rates, ...).
LESSON_SECTIONS = ("levels", "references", "divisors", "fill_values")


class Features:
    """Turns raw rows into the model's float64 inputs, like the lesson workbook's feature columns.

    Settings are stored unchanged; what `fit` learns ends in `_`: `program_` (the schema's feature
    program, each op holding its statistic), `target_` (the schema's `Target`: its coding, metrics and
    submission), `feature_names_`, `missing_`, `schema_`,
    `train_index_` (the index labels of the training rows kept), `n_rows_seen_` (the rows given to
    fit, before any was dropped), `blank_counts_` (blank cells per input column among them, the
    reason for each row missing="drop" dropped) and `n_unlabelled_` (the unlabelled rows given to fit).
    `levels_`, `references_`, `divisors_` and `fill_values_` show the program's statistics by column.

    `fit(frame, unlabelled=test)` also gives the rows to predict, without their target: ops that count
    values over the rows (a ticket's frequency) count them too, which uses no label. Ops that learn
    from the target (a group's rate) leave each training row's own label out: `fit_transform` and
    `transform(frame, training=True)` give the training rows so; `transform` gives any other rows
    the rates over every training row.
    """

    def __init__(self, schema: Schema | str | None = None, *, missing: str | None = None) -> None:
        self.schema = schema
        self.missing = missing

    # -- settings ---------------------------------------------------------------------------------

    def _resolved(self) -> tuple[Schema, str]:
        schema, default_missing = preset_schema(self.schema if isinstance(self.schema, str) else "sheet")
        if isinstance(self.schema, Schema):
            schema = self.schema
        elif self.schema is not None and not isinstance(self.schema, str):
            raise DataError(f"schema must be a Schema or a preset name, not {type(self.schema).__name__}")
        missing = self.missing or default_missing
        if missing not in MISSING:
            raise DataError(f"missing must be one of {', '.join(MISSING)}, not {missing!r}")
        return schema, missing

    def __repr__(self) -> str:
        given = [f"{k}={v!r}" for k, v in self.get_params().items() if v is not None]
        return f"Features({', '.join(given)})"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"schema": self.schema, "missing": self.missing}

    # -- learning ---------------------------------------------------------------------------------

    def fit(self, frame: pd.DataFrame, *, unlabelled: pd.DataFrame | None = None) -> "Features":
        self.fit_transform(frame, unlabelled=unlabelled)
        return self

    def fit_transform(self, frame: pd.DataFrame, *, unlabelled: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Learn the statistics from training rows (and the unlabelled rows' values, for counts) and return (X, y)
        for the rows kept, each row's own label left out of any rate of the target."""
        schema, missing = self._resolved()
        if schema.target is None:
            raise DataError("the schema names no target column, so there is nothing to train on")
        given = target_values(frame, schema) if isinstance(frame, pd.DataFrame) else None
        target = target_of(schema, given)
        frame = self._checked(frame, schema, need_target=True, source="training data", target=target)
        other = None
        if unlabelled is not None:
            other = self._checked(unlabelled, schema, need_target=False, source="unlabelled data")
        blank = frame[schema.filled_columns].isna()
        blank_counts = {str(c): int(n) for c, n in blank.sum().items() if n}
        n_rows_seen = len(frame)
        keep = _kept(blank, missing)
        if not keep.any():
            raise DataError(
                "training data: every row lacks a value in some input column, so missing='drop' "
                "leaves no rows; use missing='mode' to fill them"
            )
        raw_target = given.reset_index(drop=True)[keep]  # the file's values, for what the target learns
        frame = frame.loc[keep]
        coded = frame[_target_key(schema)].to_numpy(dtype=np.float64)
        target = target.fitted(coded, raw_target)
        # coded again by what it learned from the rows kept (a class held only by dropped rows is no class)
        coded = target.code(raw_target.reset_index(drop=True), source="training data", locate=str)
        program = compile_schema(schema)
        rows = self._as_rows(frame, schema, "training data", training=True)
        if other is not None:
            rows.unlabelled = self._as_rows(other, schema, "unlabelled data")
        columns = program.run(rows, fit=True)
        self.schema_ = schema
        self.missing_ = missing
        self.train_index_ = frame.index.copy()
        self.n_rows_seen_ = n_rows_seen
        self.blank_counts_ = blank_counts
        self.n_unlabelled_ = 0 if other is None else len(other)
        self.target_ = target
        self._set_program(program)
        return program.inputs(columns), target.model_values(coded)

    def _set_program(self, program: FeatureProgram) -> None:
        program.check_names()
        self.program_ = program
        self.feature_names_ = program.feature_names
        self.n_features_ = len(self.feature_names_)

    def kept_mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Which training rows `fit` keeps: with missing="drop", those with a value in every column whose blanks
        would be filled (a text column's blank is empty text, never dropped); otherwise all. Fitted or not."""
        schema, missing = self._resolved()
        frame = self._checked(frame, schema, need_target=False, source="training data")
        return _kept(frame[schema.filled_columns].isna(), missing)

    def training_rows(self, frame: pd.DataFrame, unlabelled: pd.DataFrame | None = None) -> pd.DataFrame:
        """The rows of `frame` these features were fitted on (those `fit` keeps), proven to be those rows.

        Freshly fitted features know their rows (`train_index_`); loaded ones are fitted again on `frame`
        (and `unlabelled`, the test rows they were fitted with, if any), which must learn exactly the
        statistics they hold, else a DataError says the data differs.
        """
        self._check_fitted()
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"the training rows must be a pandas DataFrame, not {type(frame).__name__}")
        index = getattr(self, "train_index_", None)
        if index is not None:
            missing = index.difference(frame.index)
            if len(missing):
                raise DataError(
                    f"the training data lacks {len(missing)} of the rows the features were fitted on (first index "
                    f"{missing[0]!r}); pass the same training data the models were trained on"
                )
            return frame.loc[index]
        again = Features(self.schema_, missing=self.missing_)
        # the unlabelled rows only where these features counted some (else they would count other rows)
        counted = any(getattr(op, "unlabelled_rows", 0) for op in self.program_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnseenLevelWarning)
            again.fit_transform(frame, unlabelled=unlabelled if counted else None)
        if again.to_dict() != self.to_dict():
            raise DataError(
                "the training data is not what these features were fitted on (it gives other statistics); "
                "pass the same training data the models were trained on"
            )
        return frame.loc[again.train_index_]

    # -- applying ---------------------------------------------------------------------------------

    def transform(self, frame: pd.DataFrame, *, training: bool = False) -> np.ndarray:
        """The inputs for every row of `frame`, none dropped: missing cells take the training fill values.

        `training=True` says `frame` holds the training rows these features were fitted on (with their
        target), so that a rate of the target leaves each row's own label out, as `fit_transform` does;
        other rows than those are refused.
        """
        columns = self.columns(frame, training=training)
        return self.program_.inputs(columns)

    def columns(self, frame: pd.DataFrame, *, training: bool = False) -> Any:
        """Every column the program makes for `frame` (a `Rows`: the derived columns, the features), as `transform`."""
        self._check_fitted()
        frame = self._checked(frame, self.schema_, need_target=training, source="training data" if training else "data")
        return self.program_.run(self._as_rows(frame, self.schema_, "training data" if training else "data", training=training), fit=False)

    def prepared(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The input columns as the sheet holds them: numbers checked, blanks filled from training."""
        self._check_fitted()
        frame = self._checked(frame, self.schema_, need_target=False, source="data")
        columns = self.program_.prepared(self._as_rows(frame, self.schema_, "data"))
        return pd.DataFrame({name: columns[name] for name in self.schema_.input_columns}, index=frame.index)

    def fill_rule(self, column: str) -> str:
        """How a blank of `column` is filled, in words: "the training mode", "the median of its TitleGroup"."""
        self._check_fitted()
        for op in self.program_:
            if op.in_place and op.outputs[0] == column:
                if isinstance(op, GroupFill):
                    return f"the training {op.how} of its {op.by}"
                return f"the training {getattr(op, 'how', 'mode')}"
        return "nothing (a blank is empty text)"

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """The target of `frame` as the models see it, float64 (every row): coded by `target_` (a value it cannot code
        is an error), then scaled by what it learned (`Target.model_values`)."""
        return self.target_.model_values(self.coded_target(frame))

    def coded_target(self, frame: pd.DataFrame) -> np.ndarray:
        """The target of `frame` coded by `target_`, before any scaling: the numbers the sheet's target column holds
        for a target of numbers."""
        self._check_fitted()
        checked = self._checked(frame, self.schema_, need_target=True, source="data", target=self.target_)
        return checked[_target_key(self.schema_)].to_numpy(dtype=np.float64)

    def missing_mask(self, frame: pd.DataFrame) -> pd.DataFrame:
        """True where an input cell of `frame` is blank and `transform` fills it from training (text columns are
        never filled: a blank is empty text)."""
        self._check_fitted()
        return frame[self.schema_.filled_columns].isna()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.feature_names_, dtype=object)

    def _check_fitted(self) -> None:
        if not hasattr(self, "program_"):
            raise DataError("these Features are not fitted yet; call fit or fit_transform on training data first")

    def _checked(
        self, frame: pd.DataFrame, schema: Schema, *, need_target: bool, source: str, target: Target | None = None
    ) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"{source}: expected a pandas DataFrame, got {type(frame).__name__}")
        required = schema.input_columns + (schema.target_columns if need_target else [])
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise DataError(f"{source}: missing {names_cut(missing, 'column')}")
        if len(frame) == 0:
            raise DataError(f"{source}: has no rows")
        frame = blanks_marked(frame, schema)
        numeric = schema.numeric_columns
        for name in schema.input_columns:
            if name in numeric:  # the others are text (a level is its text), compared as text
                frame[name] = as_numbers(frame[name], source=source)
        if need_target:  # the target coded by its own rule
            key = _target_key(schema)
            target = target or getattr(self, "target_", None) or target_of(schema, frame[key])
            frame[key] = target.code(frame[key], source=source, locate=_locator(frame, schema))
        return frame

    @staticmethod
    def _as_rows(frame: pd.DataFrame, schema: Schema, source: str, *, training: bool = False) -> Rows:
        columns = {name: frame[name] for name in schema.input_columns}
        # one target's column, which a rate of the target reads (several labels have none to read)
        target = target_values(frame, schema) if isinstance(schema.target, str) else None
        # a frame read from a file is named by the file ("train.csv: column w ..."), another by what it is
        return Rows(columns, source_of(frame) or source, _locator(frame, schema), target=target, training=training)

    # -- the program's statistics by column --------------------------------------------------------

    def _by_column(self, kind: type, value: Callable[[Any], Any]) -> dict[str, Any]:
        self._check_fitted()
        return {op.key: value(op) for op in self.program_ if isinstance(op, kind)}

    @property
    def levels_(self) -> dict[str, tuple[Any, ...]]:
        return self._by_column(Dummies, lambda op: op.levels)

    @property
    def references_(self) -> dict[str, tuple[Any, ...]]:
        return self._by_column(Dummies, lambda op: op.references)

    @property
    def divisors_(self) -> dict[str, float]:
        return self._by_column(Scale, lambda op: op.divisor)

    def model_for(self, model: Any) -> Any:
        """The model these features train: as their target trains it (several classes end it in as many outputs),
        with one embedding table per embedded column."""
        from ..nn import with_embeddings

        return with_embeddings(self.target_.model_for(model), self.embeddings_)

    def check_model(self, model: Any) -> None:
        """Refuse a model (read from a file) these features cannot feed: its target's rule, and its embedding tables
        one per embedded column, each of the column's levels + 1 rows."""
        self.target_.check_model(model)
        tables = [tuple(shape) for shape in model.member.tables]
        if tables != [tuple(shape) for shape in self.embeddings_]:
            raise DataError(
                f"the model's embedding tables {tables} do not fit its features' embedded columns, whose tables are "
                f"{list(self.embeddings_)} (levels + 1, width)"
            )

    @property
    def embeddings_(self) -> tuple[tuple[int, int], ...]:
        """Each embedded column's table shape, (levels + 1, width), in the order their level numbers lead the inputs:
        what a model's `embeddings` setting is for these features."""
        self._check_fitted()
        return tuple((op.rows, op.k) for op in self.program_.embedded)

    @property
    def embedded_levels_(self) -> dict[str, tuple[str, ...]]:
        """Each embedded column's levels, in the order of its table's rows (the last row, unseen levels, aside)."""
        self._check_fitted()
        return {op.column: op.levels for op in self.program_.embedded}

    @property
    def fill_values_(self) -> dict[str, Any]:
        return self._by_column(Fill, lambda op: op.value)

    # -- persistence ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Settings and learned statistics as plain JSON-able values (the lesson's four sections always, the others
        where an op has one)."""
        self._check_fitted()
        state = self.program_.state()
        out = {
            "schema": self.schema_.to_dict(),
            "missing": self.missing_,
            **{section: state.get(section, {}) for section in LESSON_SECTIONS},
        }
        out.update({section: values for section, values in state.items() if section not in LESSON_SECTIONS})
        out["feature_names"] = list(self.feature_names_)
        if self.target_.state():  # left out when it learned nothing, so files written before it read the same
            out["target"] = self.target_.state()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Features":
        schema = Schema.from_dict(data["schema"])
        feats = cls(schema, missing=data["missing"])
        program = compile_schema(schema)
        sections = {key: value for key, value in data.items() if key not in ("schema", "missing", "feature_names", "target")}
        program.load({key: sections.get(key, {}) for key in LESSON_SECTIONS} | sections)
        feats.schema_ = schema
        feats.missing_ = data["missing"]
        state = data.get("target")
        kind = state.get("kind") if isinstance(state, dict) else None
        feats.target_ = target_of(replace(schema, task=kind) if kind in TARGETS and schema.task is None else schema).loaded(state)
        feats._set_program(program)
        if feats.feature_names_ != list(data["feature_names"]):
            raise DataError(
                f"the saved features name {data['feature_names']} but their schema makes {feats.feature_names_}"
            )
        return feats


def target_values(frame: pd.DataFrame, schema: Schema) -> Any:
    """The target's values in `frame` as the file holds them: its column, or several labels' columns (a frame); None
    when the frame lacks one of them."""
    if not schema.target_columns or any(name not in frame.columns for name in schema.target_columns):
        return None
    return frame[_target_key(schema)]


def _target_key(schema: Schema) -> Any:
    """How a frame's target is indexed: its column's name, or the list of several labels' columns."""
    return list(schema.target) if isinstance(schema.target, tuple) else schema.target


def blanks_marked(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """A copy of `frame` with the schema's blank markers blank: read so from a file, and so in a DataFrame."""
    frame = frame.copy()
    if not schema.blank:
        return frame
    for name in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            frame[name] = frame[name].mask(frame[name].isin(schema.blank))
    return frame


def _kept(blank: pd.DataFrame, missing: str) -> np.ndarray:
    """The one rule for the rows kept: missing="drop" keeps those with no blank cell."""
    return ~blank.any(axis=1).to_numpy() if missing == "drop" else np.ones(len(blank), dtype=bool)


def _locator(frame: pd.DataFrame, schema: Schema) -> Callable[[int], str]:
    """Names row position i of `frame`, with its id when the schema has one: "line 5 (PassengerId 3)" for rows read
    from a file (`row_place`), "row 3 (PassengerId 3)" or "row with index 7" for a DataFrame."""
    ids = frame[schema.id_column] if schema.id_column and schema.id_column in frame.columns else None

    def locate(position: int) -> str:
        where = row_place(frame, position)
        return where if ids is None else f"{where} ({schema.id_column} {shown(ids.iloc[position])})"

    return locate
