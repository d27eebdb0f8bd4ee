"""A schema compiled to a feature program: the ops in order, and which of their outputs are the model's inputs."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError
from ._ops import NUMBER, TEXT, Codes, Constant, Dummies, FeatureOp, Fill, GroupFill, Log, Raw, Rows, Scale
from ._schema import Categorical, Schema

__all__ = ["FeatureProgram", "compile_schema"]


class FeatureProgram:
    """Ops applied in turn to a table's columns; the outputs of `feature_ops`, in order, are the model's inputs.

    Statistics are learned by `fit` on training rows only, op by op, each from the columns as the ops
    before it left them (so a max is taken after the fill).
    """

    def __init__(
        self, ops: list[FeatureOp], feature_ops: list[FeatureOp], inputs: Sequence[str] = (), kinds: dict[str, str] | None = None
    ) -> None:
        self.ops = ops
        self.feature_ops = feature_ops
        self.kinds = dict(kinds or {})  # every TEXT column, raw or made
        self._check_reads(set(inputs))

    @property
    def placed_ops(self) -> list[FeatureOp]:
        """The ops whose outputs are placed in sheet columns of their own (the derived columns), in order."""
        return [op for op in self.ops if op.placed]

    @property
    def placed_columns(self) -> list[str]:
        return [name for op in self.placed_ops for name in op.outputs]

    def _check_reads(self, raw: set[str]) -> None:
        """An op reads a made column by its name; a made column named like an input column that a later op
        reads would be read in its place, so such a program is refused."""
        made: set[str] = set()
        for op in self.ops:
            for name in op.inputs:
                if name in made and name in raw:
                    raise DataError(
                        f"schema: a feature is named {name}, like the input column {name} that a later feature "
                        "is computed from; give the feature another name"
                    )
            if not op.in_place:
                made |= set(op.outputs)

    def check_names(self) -> None:
        """Each feature made once (checked once the dummies' names are known, after fitting)."""
        names = self.feature_names
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise DataError(f"schema: the feature {', '.join(repeated)} is made twice; give each feature its own name")

    @property
    def embedded(self) -> list[Codes]:
        """The embedded columns' ops, in the order their level numbers lead the inputs."""
        return [op for op in self.feature_ops if isinstance(op, Codes)]

    @property
    def feature_names(self) -> list[str]:
        return [name for op in self.feature_ops for name in op.outputs]

    def producer(self, name: str, before: FeatureOp | None = None) -> FeatureOp | None:
        """The op that makes column `name`, as ops before `before` left it (None: the raw column, fills aside)."""
        ops = self.ops if before is None else self.ops[: self.ops.index(before)]
        for op in reversed(ops):
            if name in op.outputs and not op.in_place:
                return op
        return None

    def __iter__(self) -> Iterator[FeatureOp]:
        return iter(self.ops)

    # -- computing --------------------------------------------------------------------------------

    def run(self, rows: Rows, *, fit: bool) -> Rows:
        """Every column the program makes (learning each op's statistic first when `fit`).

        When fitting with `rows.unlabelled` (the test rows), the fills and derived columns are computed
        for those rows too, as each op is fitted, so that an op counting values over them sees them as
        it sees the training rows.
        """
        columns = self._copy_rows(rows, rows.columns)
        other = None
        if fit and rows.unlabelled is not None:
            other = self._copy_rows(rows.unlabelled, rows.unlabelled.columns)
            other.training = False
            columns.unlabelled = other
        for op in self.ops:
            if fit:
                op.fit(columns)
            for name, values in zip(op.outputs, op.apply(columns)):
                columns.columns[name] = _series(values, columns)
            if other is not None and (op.placed or op.in_place):
                for name, values in zip(op.outputs, op.apply(other)):
                    other.columns[name] = _series(values, other)
        return columns

    def _copy_rows(self, rows: Rows, columns: dict) -> Rows:
        return Rows(
            dict(columns), rows.source, rows.describe, kinds=dict(self.kinds), target=rows.target, training=rows.training,
            unlabelled=rows.unlabelled,
        )

    def inputs(self, columns: Rows) -> np.ndarray:
        """The model's inputs, float64 (rows, features), from `run`'s columns."""
        return np.column_stack([np.asarray(columns[name]) for name in self.feature_names]).astype(np.float64, copy=False)

    def prepared(self, rows: Rows) -> Rows:
        """The raw columns as the sheet holds them: after the in-place ops (the fills; the derived columns a fill by
        a group needs are made too), before any feature."""
        columns = self._copy_rows(rows, rows.columns)
        for op in self.ops:
            if op.in_place or op.placed:
                for name, values in zip(op.outputs, op.apply(columns)):
                    columns.columns[name] = _series(values, columns)
        return columns

    # -- what was learned --------------------------------------------------------------------------

    def state(self) -> dict[str, dict[str, Any]]:
        """Each op's statistic by section and key, e.g. {"divisors": {"Age": 80.0}, ...}."""
        sections: dict[str, dict[str, Any]] = {}
        for op in self.ops:
            for section, value in op.state().items():
                sections.setdefault(section, {})[op.key] = value
        return sections

    def load(self, sections: dict[str, dict[str, Any]]) -> None:
        """Set every op's statistic from `state()`'s sections."""
        for op in self.ops:
            if op.STATE:
                missing = [s for s in op.STATE if op.key not in (sections.get(s) or {})]
                if missing:
                    raise DataError(f"the saved features lack the {' and '.join(missing)} of column {op.key}")
                op.load({section: sections[section][op.key] for section in op.STATE})


def _series(values: Any, rows: Rows) -> Any:
    """An op's output as a Series on the rows' index, so a later op reads every column alike (as values, by .map)."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        index = next((c.index for c in rows.columns.values() if isinstance(c, pd.Series)), None)
        return pd.Series(values, index=index)
    return values


def compile_schema(schema: Schema) -> FeatureProgram:
    """The program of a schema: fills, the derived columns, then each continuous column's chain, the dummies, the
    constant.

    The fills come first, so a derived column reads filled values, except a fill by a group (`fill_by`),
    which comes right after the derived column making its group; a derived column reading that column
    before it is filled is refused, since the sheet's cell would hold the filled value.
    """
    made = set(schema.derived_columns)
    kinds = schema.column_kinds()
    # every column that is not a number is text, compared as text: categorical levels too
    text = {name for name, kind in kinds.items() if kind != NUMBER}
    text |= {name for entry in schema.derived if entry.output_kind == TEXT for name in entry.outputs}
    by_group = {spec.column: spec for spec in schema.continuous if spec.fill_by is not None and spec.column not in made}
    ops: list[FeatureOp] = []
    numeric = [spec.column for spec in schema.continuous if spec.column not in made]
    numeric += [name for name in schema.numeric_columns if name not in numeric]
    fill_how = {spec.column: spec.fill for spec in schema.continuous}
    ops += [Fill(name, fallback=0.0, how=fill_how.get(name, "mode")) for name in numeric if name not in by_group]
    ops += [
        Fill(spec.column, fallback=_any_level(spec), categorical=True) for spec in schema.categorical if spec.column not in made
    ]
    for spec in schema.continuous:
        if spec.column in made and spec.fill_by is not None:
            raise DataError(f"schema: column {spec.column} is derived, never blank: it needs no fill_by")
        if spec.column in made and spec.fill != "mode":
            raise DataError(f"schema: column {spec.column} is derived, never blank: it needs no fill")

    def group_fills(available: set[str]) -> list[FeatureOp]:
        ready = [spec for spec in list(by_group.values()) if spec.fill_by in available]
        for spec in ready:
            del by_group[spec.column]
        return [
            GroupFill(spec.column, spec.fill_by, how=spec.fill, by_kind=TEXT if spec.fill_by in text else None) for spec in ready
        ]

    available = set(schema.input_columns)
    ops += group_fills(available)
    for entry in schema.derived:
        for name in entry.inputs:
            if name not in available:
                later = " (it is made by a later derived column; move this one after it)" if name in made else ""
                raise DataError(f"schema: derived column {entry.outputs[0]} reads {name}, which is not made before it{later}")
            if name in by_group:
                raise DataError(
                    f"schema: derived column {entry.outputs[0]} reads {name} before its blanks are filled by "
                    f"{by_group[name].fill_by}; move it after the derived column {by_group[name].fill_by}"
                )
        op = entry.fresh().read_as({name: TEXT if name in text else NUMBER for name in entry.inputs})
        ops.append(op)
        available |= set(op.outputs)
        ops += group_fills(available)
    for spec in by_group.values():
        raise DataError(f"schema: column {spec.column} is filled by {spec.fill_by}, which is neither a column nor derived")
    # embedded columns' level numbers come first: a model's Embed ops take them off the front of its inputs
    feature_ops: list[FeatureOp] = []
    for spec in schema.categorical:
        if spec.embed is not None:
            codes = Codes(spec.column, width=None if spec.embed is True else int(spec.embed))
            ops.append(codes)
            feature_ops.append(codes)
    for spec in schema.continuous:
        # each chain ends in the feature, under the schema's name; a later op reading that name reads it
        chain: list[FeatureOp] = []
        column = spec.column
        if spec.log != "none":
            logged = spec.feature_name if spec.scale == "none" else f"{spec.log}({column}+1)"
            chain.append(Log(column, spec.log, output=logged))
            column = logged
        if spec.scale == "max":
            chain.append(Scale(column, output=spec.feature_name, key_column=spec.column))
        if not chain:
            chain.append(Raw(spec.column, output=spec.feature_name))
        ops += chain
        feature_ops.append(chain[-1])
    for spec in schema.categorical:
        if spec.embed is not None:
            continue
        dummies = Dummies(
            spec.column, given_levels=spec.levels, names=spec.names, reference=spec.reference,
            drop_reference=spec.drop_reference, prefix=spec.prefix,
        )
        ops.append(dummies)
        feature_ops.append(dummies)
    if schema.constant is not None:
        ops.append(Constant(schema.constant))
        feature_ops.append(ops[-1])
    return FeatureProgram(ops, feature_ops, schema.input_columns, {name: TEXT for name in text})


def _any_level(spec: Categorical) -> Any:
    """What fills a categorical column blank in every training row: its reference or first given level (or nothing)."""
    if spec.reference is not None:
        return spec.reference
    return spec.levels[0] if spec.levels else None
