"""Schemas: which columns become which model inputs; the lesson workbook's and the notebook's presets."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError

__all__ = [
    "Categorical", "Continuous", "Schema", "sheet_schema", "notebook_schema", "preset_schema", "PRESETS", "MISSING",
]

LOGS = ("none", "log10", "ln")
SCALES = ("none", "max")
# What Features does with a training row that has a blank input: drop it, or fill the blank with the mode.
MISSING = ("drop", "mode")


@dataclass(frozen=True)
class Continuous:
    """A numeric column: optionally log(x+1) (base 10 or e), then optionally divided by its training max."""

    column: str
    log: str = "none"
    scale: str = "none"
    name: str | None = None

    def __post_init__(self) -> None:
        _check_name(self.column, "column")
        _check_name(self.name, "name", optional=True)
        if not isinstance(self.log, str) or self.log not in LOGS:
            raise DataError(f"column {self.column}: log must be one of {', '.join(LOGS)}, not {self.log!r}")
        if not isinstance(self.scale, str) or self.scale not in SCALES:
            raise DataError(f"column {self.column}: scale must be one of {', '.join(SCALES)}, not {self.scale!r}")

    @property
    def feature_name(self) -> str:
        if self.name:
            return self.name
        prefix = {"none": "", "log10": "log_", "ln": "ln_"}[self.log]
        suffix = "_N" if self.scale == "max" else ""
        return f"{prefix}{self.column}{suffix}"


@dataclass(frozen=True)
class Categorical:
    """A column turned into one 0/1 dummy per kept level.

    `levels` lists the levels that get a dummy column, in order (None: learned from the training rows,
    sorted, with the first one dropped as the reference when `drop_reference`); every other level seen
    in training is then a reference level, encoded as all zeros. `names` gives the dummy columns'
    names (default `<column>_<level>`). `reference` names the level expected as the reference (all
    zeros, never warned about even when training lacks it), e.g. the lesson's Pclass 3; it must not be
    one of `levels`.
    """

    column: str
    levels: tuple[Any, ...] | None = None
    names: tuple[str, ...] | None = None
    reference: Any = None
    drop_reference: bool = True

    def __post_init__(self) -> None:
        _check_name(self.column, "column")
        _check_levels(self)
        if self.levels is not None:
            object.__setattr__(self, "levels", tuple(self.levels))
        if self.names is not None:
            object.__setattr__(self, "names", tuple(self.names))
            if self.levels is None or len(self.names) != len(self.levels):
                raise DataError(f"column {self.column}: give one dummy name per listed level")
        if self.reference is not None and self.levels is not None:
            from ._ops import level_key

            if level_key(self.reference) in {level_key(level) for level in self.levels}:
                raise DataError(
                    f"column {self.column}: the reference {self.reference!r} is also a listed level; the reference "
                    "gets no dummy column, so leave it out of levels"
                )


@dataclass(frozen=True)
class Schema:
    """Target, id, continuous and categorical columns and the constant column, in model-input order.

    `positive` codes a target of two values that are not 0/1 (e.g. "yes"/"no"): that value is 1, the
    other 0 (None: the target holds 0 and 1 already).
    """

    target: str | None = "Survived"
    id_column: str | None = "PassengerId"
    continuous: tuple[Continuous, ...] = ()
    categorical: tuple[Categorical, ...] = ()
    constant: str | None = "Ones"
    positive: Any = None

    def __post_init__(self) -> None:
        for key in ("target", "id_column", "constant"):
            _check_name(getattr(self, key), key, optional=True)
        object.__setattr__(self, "continuous", tuple(self.continuous))
        object.__setattr__(self, "categorical", tuple(self.categorical))
        used = self.input_columns
        duplicated = sorted({c for c in used if used.count(c) > 1})
        if duplicated:
            raise DataError(f"schema uses column {', '.join(duplicated)} more than once")
        if self.target is not None and self.target in used:
            raise DataError(f"schema uses the target {self.target} as an input too")
        if not used and self.constant is None:
            raise DataError("schema has no input columns")

    @property
    def input_columns(self) -> list[str]:
        """The raw columns the features are computed from, in order."""
        return [c.column for c in self.continuous] + [c.column for c in self.categorical]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Schema":
        known = {"target", "id_column", "continuous", "categorical", "constant", "positive"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataError(f"schema: unknown key {', '.join(unknown)}; the keys are {', '.join(sorted(known))}")
        continuous = [_entry(Continuous, "continuous", i, c) for i, c in enumerate(_entries(data, "continuous"))]
        categorical = [_entry(Categorical, "categorical", i, c) for i, c in enumerate(_entries(data, "categorical"))]
        return cls(
            target=data.get("target", "Survived"),
            id_column=data.get("id_column", "PassengerId"),
            continuous=tuple(continuous),
            categorical=tuple(categorical),
            constant=data.get("constant", "Ones"),
            positive=data.get("positive"),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> "Schema":
        """Read a schema from a .toml or .json file laid out like `to_dict()`."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path}: no such schema file")
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path}: is not UTF-8 text (byte 0x{raw[exc.start]:02X} at position {exc.start}); a schema file is "
                "UTF-8: save it as UTF-8"
            ) from exc
        try:
            if path.suffix.lower() == ".toml":
                data = _toml_loads(text)
            else:
                data = json.loads(text)
        except ValueError as exc:
            raise DataError(f"{path}: not a valid schema file ({' '.join(str(exc).split())}); fix its syntax") from exc
        except RecursionError as exc:
            raise DataError(f"{path}: is nested too deeply to be a schema; lay it out like tn.Schema.to_dict()") from exc
        if not isinstance(data, dict):
            raise DataError(f"{path}: a schema file must hold a table of keys; lay it out like tn.Schema.to_dict()")
        try:
            return cls.from_dict(data)
        except DataError as exc:
            raise DataError(f"{path}: {exc}") from exc


def _one(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"column": item}
    if not isinstance(item, dict):
        raise DataError(f"a column entry must be a name or a table, not {_shown(item)}; give the column name as text")
    return item


def _entries(data: dict[str, Any], key: str) -> list[Any]:
    """The schema's list under `key`: a list, never text (whose characters would each become a column)."""
    entries = data.get(key, ())
    if not isinstance(entries, (list, tuple)):
        raise DataError(f"schema: {key} is {_shown(entries)}, not a list of columns; write it as a list such as [\"Age\"]")
    return list(entries)


def _entry(kind: type, key: str, position: int, item: Any) -> Any:
    try:
        return kind(**_one(item))
    except TypeError as exc:
        raise DataError(f"schema: {key}[{position}]: {exc}; the keys are those of tn.{kind.__name__}") from exc
    except DataError as exc:
        raise DataError(f"schema: {key}[{position}]: {exc}") from exc


def _shown(value: Any) -> str:
    from .._plain import shown

    return shown(value)


def _check_name(value: Any, key: str, *, optional: bool = False) -> None:
    """A column or feature name: text, not empty (None where `optional`)."""
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise DataError(f"{key} is {_shown(value)}, not a column name; give the name as text")


def _check_levels(spec: "Categorical") -> None:
    """Listed levels and dummy names: lists, each level text or a finite number (text is not a list of characters)."""
    for key in ("levels", "names"):
        value = getattr(spec, key)
        if value is not None and not isinstance(value, (list, tuple)):
            raise DataError(
                f"column {spec.column}: {key} is {_shown(value)}, not a list; write it as a list such as [{_shown(value)}]"
            )
    for level in spec.levels or ():
        if not isinstance(level, str) and (
            isinstance(level, bool) or not isinstance(level, (int, float)) or not math.isfinite(level)
        ):
            raise DataError(f"column {spec.column}: the level {_shown(level)} is not text or a finite number")
    for name in spec.names or ():
        _check_name(name, f"column {spec.column}: a dummy name")
    reference = spec.reference
    if reference is not None and (isinstance(reference, bool) or not isinstance(reference, (str, int, float))):
        raise DataError(f"column {spec.column}: the reference {_shown(reference)} is not text or a number")
    if not isinstance(spec.drop_reference, bool):
        raise DataError(f"column {spec.column}: drop_reference is {_shown(spec.drop_reference)}, not true or false")


def _toml_loads(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)


def sheet_schema() -> Schema:
    """The lesson workbook's inputs: SibSp, Parch, Age_N, log_Fare, Pclass_1, Pclass_2, Embark_S, Embark_C, Male, Ones."""
    return Schema(
        target="Survived",
        id_column="PassengerId",
        continuous=(
            Continuous("SibSp"),
            Continuous("Parch"),
            Continuous("Age", scale="max", name="Age_N"),
            Continuous("Fare", log="log10", name="log_Fare"),
        ),
        categorical=(
            Categorical("Pclass", levels=(1, 2), names=("Pclass_1", "Pclass_2"), reference=3),
            Categorical("Embarked", levels=("S", "C"), names=("Embark_S", "Embark_C"), reference="Q"),
            Categorical("Sex", levels=("male",), names=("Male",), reference="female"),
        ),
        constant="Ones",
    )


def notebook_schema() -> Schema:
    """The lesson notebook's inputs: every column over its max, ln(Fare+1), all n dummies, no constant."""
    return Schema(
        target="Survived",
        id_column="PassengerId",
        continuous=(
            Continuous("Age", scale="max", name="Age"),
            Continuous("SibSp", scale="max", name="SibSp"),
            Continuous("Parch", scale="max", name="Parch"),
            Continuous("Fare", log="ln", scale="max", name="LogFare"),
        ),
        categorical=(
            Categorical("Sex", levels=("male", "female"), names=("Sex_male", "Sex_female"), drop_reference=False),
            Categorical("Pclass", levels=(1, 2, 3), names=("Pclass_1", "Pclass_2", "Pclass_3"), drop_reference=False),
            Categorical(
                "Embarked", levels=("C", "Q", "S"), names=("Embarked_C", "Embarked_Q", "Embarked_S"),
                drop_reference=False,
            ),
        ),
        constant=None,
    )


PRESETS = {"sheet": (sheet_schema, "drop"), "notebook": (notebook_schema, "mode")}


def preset_schema(name: str) -> tuple[Schema, str]:
    """A preset's schema and its way with missing values: "sheet" (drop) or "notebook" (mode)."""
    if name not in PRESETS:
        raise DataError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    make, missing = PRESETS[name]
    return make(), missing
