"""The feature pipeline: dummies, max-normalisation, log(x+1) and a constant, learned on training rows only."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .data import as_numbers
from .errors import DataError
from .schema import Categorical, Continuous, Schema, preset_schema

__all__ = ["Features", "UnseenLevelWarning", "level_key"]

MISSING = ("drop", "mode")


class UnseenLevelWarning(UserWarning):
    """A categorical value never seen in training: its dummies are all zero."""


def level_key(value: Any) -> Any:
    """One key for a level however the CSV typed it: 1, 1.0 and "1" are the same Pclass."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return int(number) if number.is_integer() else number
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number):
        return int(number) if number.is_integer() else number
    return text


def _log(kind: str, values: np.ndarray) -> np.ndarray:
    if kind == "log10":
        return np.log10(values + 1.0)
    if kind == "ln":
        return np.log(values + 1.0)
    return values


class Features:
    """Turns raw rows into the model's float64 inputs, like the lesson workbook's feature columns.

    Settings are stored unchanged; what `fit` learns ends in `_`:
    `feature_names_`, `levels_` (kept levels per categorical column), `references_` (the dropped
    levels, which give all-zero dummies without a warning), `divisors_` (training max per
    max-scaled column), `fill_values_` (training mode per input column), `missing_` and
    `train_index_` (the index labels of the training rows kept).
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

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"schema": self.schema, "missing": self.missing}

    # -- learning ---------------------------------------------------------------------------------

    def fit(self, frame: pd.DataFrame) -> "Features":
        self.fit_transform(frame)
        return self

    def fit_transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Learn the statistics from training rows and return (X, y) for the rows kept."""
        schema, missing = self._resolved()
        if schema.target is None:
            raise DataError("the schema names no target column, so there is nothing to train on")
        frame = self._checked(frame, schema, need_target=True, source="training data")
        used = schema.input_columns
        if missing == "drop":
            keep = frame[used].notna().all(axis=1).to_numpy()
            if not keep.any():
                raise DataError(
                    "training data: every row lacks a value in some input column, so missing='drop' "
                    "leaves no rows; use missing='mode' to fill them"
                )
            kept = frame.loc[keep]
        else:
            kept = frame
        self.schema_ = schema
        self.missing_ = missing
        self.train_index_ = kept.index.copy()
        self.fill_values_ = {c.column: _mode(kept[c.column], fallback=0.0) for c in schema.continuous}
        self.fill_values_ |= {c.column: _mode(kept[c.column], fallback=_any_level(c)) for c in schema.categorical}
        self.levels_ = {c.column: self._learn_levels(c, kept[c.column]) for c in schema.categorical}
        self.references_ = {c.column: self._learn_reference(c, kept[c.column]) for c in schema.categorical}
        filled = kept.fillna(self.fill_values_) if missing == "mode" else kept
        self.divisors_ = {}
        for spec in schema.continuous:
            if spec.scale == "max":
                values = self._logged(spec, filled[spec.column], source="training data")
                top = float(np.max(values))
                self.divisors_[spec.column] = top if top != 0.0 else 1.0
        self.feature_names_ = self._names(schema)
        self.n_features_ = len(self.feature_names_)
        X = self._encode(filled, warn=True)
        y = filled[schema.target].to_numpy(dtype=np.float64)
        return X, y

    def _learn_levels(self, spec: Categorical, values: pd.Series) -> tuple[Any, ...]:
        if spec.levels is not None:
            return tuple(spec.levels)
        seen = sorted({level_key(v) for v in values.dropna()}, key=lambda k: (isinstance(k, str), k))
        return tuple(seen[1:] if spec.drop_reference else seen)

    def _learn_reference(self, spec: Categorical, values: pd.Series) -> tuple[Any, ...]:
        if spec.levels is not None:
            return () if spec.reference is None else (level_key(spec.reference),)
        dropped = {level_key(v) for v in values.dropna()} - set(self.levels_[spec.column])
        return tuple(sorted(dropped, key=lambda k: (isinstance(k, str), k)))

    def _names(self, schema: Schema) -> list[str]:
        names = [spec.feature_name for spec in schema.continuous]
        for spec in schema.categorical:
            levels = self.levels_[spec.column]
            names += list(spec.names) if spec.names is not None else [f"{spec.column}_{lv}" for lv in levels]
        if schema.constant is not None:
            names.append(schema.constant)
        return names

    # -- applying ---------------------------------------------------------------------------------

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The inputs for every row of `frame`, none dropped: missing cells take the training fill values."""
        self._check_fitted()
        frame = self._checked(frame, self.schema_, need_target=False, source="data")
        return self._encode(frame.fillna(self.fill_values_), warn=True)

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """The 0/1 target of `frame` as float64 (every row; a NaN or non-0/1 value is an error)."""
        self._check_fitted()
        return self._checked(frame, self.schema_, need_target=True, source="data")[self.schema_.target].to_numpy(
            dtype=np.float64
        )

    def missing_mask(self, frame: pd.DataFrame) -> pd.DataFrame:
        """True where an input cell of `frame` is blank and `transform` fills it from training."""
        self._check_fitted()
        return frame[self.schema_.input_columns].isna()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.feature_names_, dtype=object)

    def _check_fitted(self) -> None:
        if not hasattr(self, "feature_names_"):
            raise DataError("these Features are not fitted yet; call fit or fit_transform on training data first")

    def _checked(self, frame: pd.DataFrame, schema: Schema, *, need_target: bool, source: str) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"{source}: expected a pandas DataFrame, got {type(frame).__name__}")
        required = schema.input_columns + ([schema.target] if need_target else [])
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise DataError(f"{source}: missing column {', '.join(missing)}")
        if len(frame) == 0:
            raise DataError(f"{source}: has no rows")
        frame = frame.copy()
        for spec in schema.continuous:
            frame[spec.column] = as_numbers(frame[spec.column], source=source)
        if need_target:
            frame[schema.target] = self._checked_target(frame, schema, source)
        return frame

    def _checked_target(self, frame: pd.DataFrame, schema: Schema, source: str) -> pd.Series:
        target = as_numbers(frame[schema.target], source=source)
        blank = target.isna().to_numpy()
        if blank.any():
            raise DataError(
                f"{source}: target {schema.target} is blank in {blank.sum()} row(s), first at {_row(frame, schema, int(blank.argmax()))}; "
                "every training row needs a 0 or 1"
            )
        bad = ~target.isin([0, 1]).to_numpy()
        if bad.any():
            first = int(bad.argmax())
            raise DataError(
                f"{source}: target {schema.target} must be 0 or 1, but {_row(frame, schema, first)} holds "
                f"{frame[schema.target].iloc[first]!r}"
            )
        return target.astype(np.float64)

    def _logged(self, spec: Continuous, values: pd.Series, *, source: str) -> np.ndarray:
        raw = values.to_numpy(dtype=np.float64)
        if spec.log != "none":
            bad = raw <= -1.0
            if bad.any():
                raise DataError(
                    f"{source}: column {spec.column} holds {raw[bad.argmax()]!r}; log(x+1) needs values above -1"
                )
        return _log(spec.log, raw)

    def _encode(self, frame: pd.DataFrame, *, warn: bool) -> np.ndarray:
        schema = self.schema_
        columns = []
        for spec in schema.continuous:
            values = self._logged(spec, frame[spec.column], source="data")
            if spec.scale == "max":
                values = values / self.divisors_[spec.column]
            columns.append(values)
        for spec in schema.categorical:
            keys = frame[spec.column].map(level_key)
            levels = self.levels_[spec.column]
            known = {level_key(lv) for lv in levels} | set(self.references_[spec.column])
            for level in levels:
                columns.append((keys == level_key(level)).to_numpy(dtype=np.float64))
            unseen = ~keys.isin(known).to_numpy()
            if warn and unseen.any():
                rows = [_row(frame, schema, int(i)) for i in np.flatnonzero(unseen)[:10]]
                more = f" and {unseen.sum() - 10} more" if unseen.sum() > 10 else ""
                warnings.warn(
                    UnseenLevelWarning(
                        f"column {spec.column}: level(s) {sorted(set(map(str, keys[unseen])))} never seen in "
                        f"training; their dummies are all zero ({', '.join(rows)}{more})"
                    ),
                    stacklevel=3,
                )
        if schema.constant is not None:
            columns.append(np.ones(len(frame), dtype=np.float64))
        return np.column_stack(columns).astype(np.float64, copy=False)

    # -- persistence ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Settings and learned statistics as plain JSON-able values."""
        self._check_fitted()
        return {
            "schema": self.schema_.to_dict(),
            "missing": self.missing_,
            "levels": {k: [_plain(v) for v in vs] for k, vs in self.levels_.items()},
            "references": {k: [_plain(v) for v in vs] for k, vs in self.references_.items()},
            "divisors": dict(self.divisors_),
            "fill_values": {k: _plain(v) for k, v in self.fill_values_.items()},
            "feature_names": list(self.feature_names_),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Features":
        schema = Schema.from_dict(data["schema"])
        feats = cls(schema, missing=data["missing"])
        feats.schema_ = schema
        feats.missing_ = data["missing"]
        feats.levels_ = {k: tuple(v) for k, v in data["levels"].items()}
        feats.references_ = {k: tuple(v) for k, v in data["references"].items()}
        feats.divisors_ = {k: float(v) for k, v in data["divisors"].items()}
        feats.fill_values_ = dict(data["fill_values"])
        feats.feature_names_ = list(data["feature_names"])
        feats.n_features_ = len(feats.feature_names_)
        return feats


def _mode(values: pd.Series, *, fallback: Any) -> Any:
    """The most common value (the smallest on a tie); `fallback` when the column is entirely blank."""
    modes = values.dropna().mode()
    return _plain(modes.iloc[0]) if len(modes) else fallback


def _any_level(spec: Categorical) -> Any:
    if spec.reference is not None:
        return spec.reference
    return spec.levels[0] if spec.levels else ""


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _row(frame: pd.DataFrame, schema: Schema, position: int) -> str:
    where = f"row {position + 1}"
    if schema.id_column and schema.id_column in frame.columns:
        where += f" ({schema.id_column} {frame[schema.id_column].iloc[position]})"
    return where
