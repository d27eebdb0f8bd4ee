"""Schemas: which columns become which model inputs, and how (the presets are features/_presets.py)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .._files import MAX_TEXT_BYTES, read_regular
from ..errors import DataError

__all__ = ["Categorical", "Continuous", "Schema", "MISSING", "LOGS", "SCALES", "embedded"]

LOGS = ("none", "log10", "ln")
SCALES = ("none", "max")
# What Features does with a training row that has a blank input: drop it, or fill the blank with the mode.
MISSING = ("drop", "mode")


@dataclass(frozen=True)
class Continuous:
    """A numeric column: optionally log(x+1) (base 10 or e), then optionally divided by its training max.

    A blank is filled with the training `fill` ("mode", the lesson's, or "median"); with `fill_by`, the
    `fill` of the training rows holding the same value in that column (Kaggle's Age by Title), and
    the column's own where the group has none.
    """

    column: str
    log: str = "none"
    scale: str = "none"
    name: str | None = None
    fill: str = "mode"
    fill_by: str | None = None

    def __post_init__(self) -> None:
        from ._ops import FILLS

        _check_name(self.column, "column")
        _check_name(self.name, "name", optional=True)
        if not isinstance(self.log, str) or self.log not in LOGS:
            raise DataError(f"column {self.column}: log must be one of {', '.join(LOGS)}, not {self.log!r}")
        if not isinstance(self.scale, str) or self.scale not in SCALES:
            raise DataError(f"column {self.column}: scale must be one of {', '.join(SCALES)}, not {self.scale!r}")
        if self.fill not in FILLS:
            raise DataError(f"column {self.column}: fill must be one of {', '.join(FILLS)}, not {self.fill!r}")
        if self.fill_by is not None and (not isinstance(self.fill_by, str) or not self.fill_by):
            raise DataError(f"column {self.column}: fill_by must name a column, not {self.fill_by!r}")

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
    one of `levels`. `prefix` names the dummies `<prefix>_<level>` instead of `<column>_<level>`.

    `embed` turns the column into an embedding instead (fastai's tabular model): the number of its level, which a
    model looks up in a learned table of one row per level (and one for levels unseen in training), `embed` values
    wide; True takes fastai's width for the column's level count, min(600, round(1.6 n^0.56)). An embedded column
    gets no dummies, so `levels`, `names`, `reference` and `prefix` do not apply to it.
    """

    column: str
    levels: tuple[Any, ...] | None = None
    names: tuple[str, ...] | None = None
    reference: Any = None
    drop_reference: bool = True
    prefix: str | None = None
    embed: int | bool | None = None

    def __post_init__(self) -> None:
        _check_name(self.column, "column")
        _check_levels(self)
        _check_embed(self)
        if self.levels is not None:
            object.__setattr__(self, "levels", tuple(self.levels))
        if self.names is not None:
            object.__setattr__(self, "names", tuple(self.names))
            if self.levels is None or len(self.names) != len(self.levels):
                raise DataError(f"column {self.column}: give one dummy name per listed level")
        if self.reference is not None and self.levels is not None:
            from ._ops import text_of

            if text_of(self.reference) in {text_of(level) for level in self.levels}:
                raise DataError(
                    f"column {self.column}: the reference {self.reference!r} is also a listed level; the reference "
                    "gets no dummy column, so leave it out of levels"
                )


@dataclass(frozen=True)
class Schema:
    """Target, id, derived, continuous and categorical columns and the constant column, in model-input order.

    `derived` lists the columns made from others before any feature (features/_derived.py: extract,
    levels, sum, ratio, count, join, target_rate), each in a sheet column of its own; a continuous
    or categorical entry may name a derived column as its column. `positive` codes a target of two
    values that are not 0/1 (e.g. "yes"/"no"): that value is 1, the other 0 (None: the target holds 0
    and 1 already). `target` may list several 0/1 columns (several labels, predicted at once). `task` says what kind
    of target it is (`features.TARGETS`: "binary", "regression", "multiclass", "multilabel"); None infers it from
    the training rows (numbers of more than two values are a regression target, text of 3 to 50 several classes,
    a list of columns several labels). `blank` lists the texts that mark a blank cell besides an empty one (e.g. "NA"); by default
    only an empty cell is blank, and `NA`, `None` or `null` are text like any other.
    """

    target: str | tuple[str, ...] | None = "Survived"
    id_column: str | None = "PassengerId"
    continuous: tuple[Continuous, ...] = ()
    categorical: tuple[Categorical, ...] = ()
    constant: str | None = "Ones"
    positive: Any = None
    derived: tuple[Any, ...] = ()
    blank: tuple[str, ...] = ()
    task: str | None = None

    def __post_init__(self) -> None:
        from ._derived import Derived

        if not isinstance(self.blank, (list, tuple)) or not all(isinstance(m, str) and m for m in self.blank):
            raise DataError(f"schema: blank is {_shown(self.blank)}; give a list of the texts that mark a blank cell")
        object.__setattr__(self, "blank", tuple(dict.fromkeys(self.blank)))

        if isinstance(self.target, (list, tuple)):  # several labels: several 0/1 columns, predicted at once
            for name in self.target:
                _check_name(name, "target")
            if len(self.target) < 2 or len(set(self.target)) != len(self.target):
                raise DataError(
                    f"schema: target lists {_shown(list(self.target))}; several labels are two or more different columns "
                    "(one column is a target of its own: give its name as text)"
                )
            object.__setattr__(self, "target", tuple(self.target))
        for key in ("target", "id_column", "constant"):
            if not (key == "target" and isinstance(self.target, tuple)):
                _check_name(getattr(self, key), key, optional=True)
        positive = self.positive
        if positive is not None and (
            isinstance(positive, bool) or not isinstance(positive, (str, int, float)) or not isinstance(positive, str)
            and not math.isfinite(positive)
        ):
            raise DataError(f"schema: positive is {_shown(positive)}, not a value of the target (text or a finite number)")
        from ._target import TARGETS

        if self.task is not None and (not isinstance(self.task, str) or self.task not in TARGETS):
            raise DataError(f"schema: task is {_shown(self.task)}; give one of {', '.join(TARGETS)} (or leave it out to infer it)")
        if (self.task == "multilabel") != isinstance(self.target, tuple) and self.task is not None:
            raise DataError(
                f"schema: task {self.task} {'is several labels: give target a list of their 0/1 columns' if self.task == 'multilabel' else 'predicts one column, but target lists several (several labels: task multilabel)'}"
            )
        if self.task is not None and self.task != "binary" and positive is not None:
            raise DataError(f"schema: positive names the value coded 1 of a binary target, but task is {self.task}; leave positive out")
        object.__setattr__(self, "continuous", tuple(self.continuous))
        object.__setattr__(self, "categorical", tuple(self.categorical))
        object.__setattr__(self, "derived", tuple(self.derived))
        for entry in self.derived:
            if not isinstance(entry, Derived):
                raise DataError(f"schema: a derived entry must be a derived op (titanic_nn.features.Extract, Count, ...), not {entry!r}")
        made = [name for entry in self.derived for name in entry.outputs]
        repeated = sorted({n for n in made if made.count(n) > 1})
        if repeated:
            raise DataError(f"schema: the derived column {', '.join(repeated)} is made twice; give each its own name")
        for name in made:
            if name in (*self.target_columns, self.id_column):
                raise DataError(f"schema: a derived column is named {name}, like the {'target' if name in self.target_columns else 'id column'}; rename it")
        for group in (self.continuous, self.categorical):
            used = [c.column for c in group]
            duplicated = sorted({c for c in used if used.count(c) > 1})
            if duplicated:
                raise DataError(f"schema uses column {', '.join(duplicated)} more than once")
        # a raw column is one input: its fill is one; a derived column may be both a number and levels (IsAlone)
        raw = [c.column for c in (*self.continuous, *self.categorical) if c.column not in made]
        duplicated = sorted({c for c in raw if raw.count(c) > 1})
        if duplicated:
            raise DataError(f"schema uses column {', '.join(duplicated)} more than once")
        for target in self.target_columns:
            if target in self.input_columns:
                raise DataError(f"schema uses the target {target} as an input too")
            if self.id_column is not None and self.id_column == target:
                raise DataError(f"schema names {target} both the target and the id column; give the id column another column")
        if isinstance(self.target, tuple) and self.positive is not None:
            raise DataError("schema: positive codes one target of two values; several labels each hold 0 and 1")
        if self.id_column is not None and self.id_column in self.input_columns:
            raise DataError(
                f"schema uses the id column {self.id_column} as an input too; an id goes out as it came in and is "
                "never a feature: take it off the inputs, or name another id column"
            )
        if not self.continuous and not self.categorical and self.constant is None:
            raise DataError("schema has no input columns")

    @property
    def target_columns(self) -> list[str]:
        """The columns to predict: none, the target, or the several labels' columns."""
        if self.target is None:
            return []
        return list(self.target) if isinstance(self.target, tuple) else [self.target]

    @property
    def counts_unlabelled(self) -> bool:
        """Whether a derived column counts values over the unlabelled (test) rows too, so fit needs them."""
        return any(getattr(entry, "counts_unlabelled", False) for entry in self.derived)

    @property
    def derived_columns(self) -> list[str]:
        """The columns the derived entries make, in order."""
        return [name for entry in self.derived for name in entry.outputs]

    @property
    def input_columns(self) -> list[str]:
        """The raw columns the features are computed from, in order: continuous, categorical, then those only
        derived columns (or fills by a group) read."""
        made = set(self.derived_columns)
        names = [c.column for c in self.continuous] + [c.column for c in self.categorical]
        names += [c.fill_by for c in self.continuous if c.fill_by is not None]
        names += [name for entry in self.derived for name in entry.inputs]
        return list(dict.fromkeys(n for n in names if n not in made))

    def column_kinds(self) -> dict[str, str]:
        """Each raw column's kind: "number" (continuous, or read as a number by a derived column), "level"
        (categorical) or "text" (read only as text, by derived columns; never filled: a blank is "")."""
        from ._ops import NUMBER, TEXT

        made = set(self.derived_columns)
        kinds = {name: TEXT for name in self.input_columns}
        for entry in self.derived:
            for name, role in entry.reads:
                if name not in made and role != TEXT and kinds[name] == TEXT:
                    kinds[name] = NUMBER if role == NUMBER else "level"
        for spec in self.categorical:
            if spec.column not in made:
                kinds[spec.column] = "level"
        for spec in self.continuous:
            if spec.column not in made:
                kinds[spec.column] = NUMBER
        for entry in self.derived:
            for name, role in entry.reads:
                if name not in made and role == NUMBER:
                    kinds[name] = NUMBER
        for spec in self.continuous:
            if spec.fill_by is not None and spec.fill_by not in made and kinds[spec.fill_by] == TEXT:
                kinds[spec.fill_by] = "level"
        return kinds

    @property
    def numeric_columns(self) -> list[str]:
        """The raw columns read as numbers."""
        return [name for name, kind in self.column_kinds().items() if kind == "number"]

    @property
    def text_columns(self) -> list[str]:
        """The columns read as the file's text, exactly: the id, every raw input that is not a number (levels are
        text), and a target whose positive value is text."""
        names = [self.id_column] if self.id_column else []
        names += [name for name, kind in self.column_kinds().items() if kind != "number"]
        if self.target is not None and isinstance(self.positive, str):
            names.append(self.target)
        return list(dict.fromkeys(names))

    @property
    def blank_markers(self) -> tuple[str, ...]:
        """What a reader takes for a blank cell: the empty text, then the schema's `blank` markers."""
        return ("", *self.blank)

    @property
    def filled_columns(self) -> list[str]:
        """The raw columns whose blanks are filled (or whose rows missing="drop" drops): all but the text ones."""
        return [name for name, kind in self.column_kinds().items() if kind != "text"]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values; settings added after the lesson's are left out at their defaults."""
        out: dict[str, Any] = {
            "target": list(self.target) if isinstance(self.target, tuple) else self.target, "id_column": self.id_column,
            "continuous": [_without_defaults(c, ("fill", "fill_by")) for c in self.continuous],
            "categorical": [_without_defaults(c, ("prefix", "embed")) for c in self.categorical],
            "constant": self.constant, "positive": self.positive,
        }
        if self.derived:
            out["derived"] = [entry.settings() for entry in self.derived]
        if self.blank:
            out["blank"] = list(self.blank)
        if self.task is not None:
            out["task"] = self.task
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Schema":
        known = {"target", "id_column", "continuous", "categorical", "constant", "positive", "derived", "blank", "task"}
        if not isinstance(data, dict):
            raise DataError("schema: a schema must be a table of keys")
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataError(f"schema: unknown key {', '.join(unknown)}; the keys are {', '.join(sorted(known))}")
        continuous = [_entry(Continuous, "continuous", i, c) for i, c in enumerate(_entries(data, "continuous"))]
        categorical = [_entry(Categorical, "categorical", i, c) for i, c in enumerate(_entries(data, "categorical"))]
        return cls(
            target=_none_if_false(data.get("target", "Survived")),
            id_column=_none_if_false(data.get("id_column", "PassengerId")),
            continuous=tuple(continuous),
            categorical=tuple(categorical),
            constant=_none_if_false(data.get("constant", "Ones")),
            positive=_none_if_false(data.get("positive")),
            derived=tuple(_derived_entry(entry) for entry in data.get("derived", ())),
            blank=data.get("blank", ()),
            task=data.get("task"),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> "Schema":
        """Read a schema from a .toml or .json file laid out like `to_dict()`."""
        path = Path(path)
        raw = read_regular(path, what="a schema file (.toml or .json)", limit=MAX_TEXT_BYTES, hint="check the schema's path")
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


def _check_embed(spec: "Categorical") -> None:
    """`embed`: absent, true (fastai's width) or a width; an embedded column gets no dummies, so no dummy settings."""
    from .._constraints import EMBED_WIDTH

    if spec.embed is False:
        object.__setattr__(spec, "embed", None)
    if spec.embed is None:
        return
    if spec.embed is not True:
        EMBED_WIDTH.check(spec.embed, f"column {spec.column}: embed")
    given = [key for key in ("levels", "names", "reference", "prefix") if getattr(spec, key) is not None]
    if given:
        raise DataError(
            f"column {spec.column}: an embedded column gets no dummies, so it takes no {' or '.join(given)}; leave "
            f"{'them' if len(given) > 1 else 'it'} out or drop embed"
        )


def embedded(schema: "Schema", widths: dict[str, int | bool]) -> "Schema":
    """`schema` with the named categorical columns embedded (a width, or True for fastai's), their dummy settings
    dropped; a name that is not a categorical column of the schema is refused."""
    from dataclasses import replace

    categorical = {spec.column: spec for spec in schema.categorical}
    unknown = [name for name in widths if name not in categorical]
    if unknown:
        known = ", ".join(categorical) or "none"
        raise DataError(f"embed: {', '.join(unknown)} is not a categorical column of the schema (those are: {known})")
    return replace(
        schema,
        categorical=tuple(
            replace(spec, levels=None, names=None, reference=None, prefix=None, embed=widths[spec.column])
            if spec.column in widths else spec
            for spec in schema.categorical
        ),
    )


def _without_defaults(spec: Any, newer: tuple[str, ...]) -> dict[str, Any]:
    """A spec's fields, those added after the lesson's left out at their defaults (so saved files read the same)."""
    out = asdict(spec)
    for f in fields(spec):
        if f.name in newer and out[f.name] == f.default:
            del out[f.name]
    return out


def _none_if_false(value: Any) -> Any:
    """None for `false`: TOML has no null, so a schema file says "no id column" (or target, constant, positive) as false."""
    return None if value is False else value


def _derived_entry(entry: Any) -> Any:
    from ._derived import DERIVED

    if not isinstance(entry, dict):
        raise DataError(f"schema: a derived entry must be a table with a kind, not {entry!r}")
    settings = dict(entry)
    kind = settings.pop("kind", None)
    if kind not in DERIVED:
        raise DataError(f"schema: derived kind {kind!r} is unknown; the kinds are {', '.join(DERIVED)}")
    return DERIVED[kind].from_settings(settings)


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
    if reference is not None and (
        isinstance(reference, bool) or not isinstance(reference, (str, int, float))
        or not isinstance(reference, str) and not math.isfinite(reference)
    ):
        raise DataError(f"column {spec.column}: the reference {_shown(reference)} is not a level (text or a finite number)")
    if not isinstance(spec.drop_reference, bool):
        raise DataError(f"column {spec.column}: drop_reference is {_shown(spec.drop_reference)}, not true or false")


def _toml_loads(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)
