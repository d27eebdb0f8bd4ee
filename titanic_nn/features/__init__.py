"""Data to model inputs: schemas, the feature ops they compile to, and the Features wrapper that learns them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "Schema": "._schema", "Continuous": "._schema", "Categorical": "._schema", "MISSING": "._schema",
    "embedded": "._schema", "Codes": "._ops", "embedding_width": "._ops",
    "sheet_schema": "._presets", "notebook_schema": "._presets", "preset_schema": "._presets", "PRESETS": "._presets",
    "kaggle_schema": "._presets",
    "Features": "._features",
    "blanks_marked": "._features", "target_values": "._features",
    "FeatureProgram": "._program", "compile_schema": "._program",
    "FeatureOp": "._ops", "Rows": "._ops", "RenderContext": "._ops", "Fill": "._ops", "Raw": "._ops", "Log": "._ops",
    "Scale": "._ops", "Dummies": "._ops", "Constant": "._ops", "NUMBER": "._ops", "GroupFill": "._ops",
    "text_of": "._ops", "SheetColumns": "._ops", "TEXT": "._ops",
    "DERIVED": "._derived", "Derived": "._derived", "Extract": "._derived", "Levels": "._derived", "Sum": "._derived",
    "Ratio": "._derived", "Count": "._derived", "Join": "._derived", "TargetRate": "._derived",
    "Target": "._target", "Binary": "._target", "TARGETS": "._target", "target_of": "._target", "THRESHOLD": "._target",
    "accuracy": "._target", "classify": "._target", "Regression": "._target", "target_kind": "._target",
    "Multiclass": "._target", "Multilabel": "._target", "ScoreRanges": "._target", "text_of_level": "._target",
    "SCORE_LABELS": "._target", "binary_values_problem": "._target",
    "infer_schema": "._infer", "Choice": "._infer", "MAX_LEVELS": "._infer", "INPUT_KINDS": "._infer",
    "schema_toml": "._toml", "toml_text": "._toml",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ._derived import DERIVED, Count, Derived, Extract, Join, Levels, Ratio, Sum, TargetRate
    from ._features import Features, blanks_marked, target_values
    from ._infer import INPUT_KINDS, MAX_LEVELS, Choice, infer_schema
    from ._ops import (
        NUMBER, TEXT, Codes, Constant, embedding_width, Dummies, FeatureOp, Fill, GroupFill, Log, Raw, RenderContext, Rows, Scale, SheetColumns,
        text_of,
    )
    from ._program import FeatureProgram, compile_schema
    from ._target import (
        SCORE_LABELS, TARGETS, THRESHOLD, Binary, Multiclass, Multilabel, Regression, ScoreRanges, Target, accuracy,
        binary_values_problem, classify, target_kind, target_of, text_of_level,
    )
    from ._presets import PRESETS, kaggle_schema, notebook_schema, preset_schema, sheet_schema
    from ._schema import MISSING, Categorical, Continuous, Schema, embedded
    from ._toml import schema_toml, toml_text
