"""Data to model inputs: schemas, the feature ops they compile to, and the Features wrapper that learns them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "Schema": "._schema", "Continuous": "._schema", "Categorical": "._schema", "sheet_schema": "._schema",
    "notebook_schema": "._schema", "preset_schema": "._schema", "PRESETS": "._schema", "MISSING": "._schema",
    "Features": "._features",
    "FeatureProgram": "._program", "compile_schema": "._program",
    "FeatureOp": "._ops", "Rows": "._ops", "RenderContext": "._ops", "Fill": "._ops", "Raw": "._ops", "Log": "._ops",
    "Scale": "._ops", "Dummies": "._ops", "Constant": "._ops", "level_key": "._ops",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ._features import Features
    from ._ops import Constant, Dummies, FeatureOp, Fill, Log, Raw, RenderContext, Rows, Scale, level_key
    from ._program import FeatureProgram, compile_schema
    from ._schema import MISSING, PRESETS, Categorical, Continuous, Schema, notebook_schema, preset_schema, sheet_schema
