"""The hidden `_titanic_nn` sheet: features, model settings and row counts as JSON, for verify and read-back."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._plain import json_ready, shown
from ..errors import DataError
from ..training import FittedModel

__all__ = ["FORMAT", "CHUNK_CHARS", "describe", "filled_masks", "to_cells", "from_cells", "check_description"]

FORMAT = 2  # 2: the Valid column and the train/valid scores moved the parameters one column right
CHUNK_CHARS = 32_000  # under Excel's 32,767 characters per cell
# Training records that differ from run to run or machine to machine: left out so equal inputs give equal bytes.
VOLATILE = ("seconds", "device", "threads")


def describe(
    fits: Sequence[FittedModel],
    n_train: int,
    n_test: int | None,
    submission: str | None,
    id_column: str | None,
    filled: Mapping[str, pd.DataFrame | None] | None = None,
    training: Sequence[tuple[str, str, Any]] = (),
    epochs: int | None = None,
) -> dict[str, Any]:
    """What a reader needs to rebuild the sheets' layout and Python's numbers.

    `filled` gives the training and test sheets' masks of filled cells: their row positions are kept,
    since a filled cell holds a formula (a reference to its fill value) where the others hold values.
    """
    description = {
        "format": FORMAT,
        "features": fits[0].features.to_dict(),
        "models": [
            {
                "name": fit.name,
                "config": fit.model.get_config(),
                "params": [a.tolist() for a in fit.model.arrays(fit.params)],
                "training": json_ready({k: v for k, v in fit.training.items() if k not in VOLATILE}, unknown="skip"),
            }
            for fit in fits
        ],
        "train_rows": n_train,
        "test_rows": n_test,
        "submission": submission,
        "id_column": id_column,
    }
    positions = {
        sheet: {str(c): np.flatnonzero(mask[c].to_numpy()).tolist() for c in mask.columns if mask[c].any()}
        for sheet, mask in (filled or {}).items()
        if mask is not None
    }
    if any(positions.values()):
        description["filled"] = {sheet: cols for sheet, cols in positions.items() if cols}
    if training:
        description["training"] = {
            "epochs": epochs,
            "sheets": [
                # the settings are the sheet's input cells (weight decay and the schedule's among them where it has
                # them); a constant schedule is left unsaid, so a sheet without one is described as it always was
                {"model": model, "sheet": sheet, "optimizer": descent.name, "settings": descent.settings()}
                | ({"schedule": descent.schedule.name} if descent.schedule.varies else {})
                for model, sheet, descent in training
            ],
        }
    return description


def filled_masks(description: Mapping[str, Any], columns: Sequence[str], n_rows: Mapping[str, int]) -> dict[str, pd.DataFrame]:
    """The masks `describe` kept, rebuilt: for "train" and "test", True where a cell was filled."""
    kept = description.get("filled") or {}
    masks = {}
    for sheet, n in n_rows.items():
        mask = pd.DataFrame(False, index=range(n), columns=list(columns))
        for column, rows in (kept.get(sheet) or {}).items():
            if column in mask.columns:
                mask.loc[[r for r in rows if 0 <= r < n], column] = True
        masks[sheet] = mask
    return masks


# JSON text in which no run looks like a cell escape ("_xHHHH_"), so every writer and reader keeps it as is
_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def to_cells(description: dict[str, Any]) -> list[str]:
    text = json.dumps(description, sort_keys=True, separators=(",", ":"), allow_nan=True)
    # "_" is only ever inside a JSON string, where \u005f is the same character
    text = _ESCAPE_LIKE.sub(r"\\u005f", text)
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]


def from_cells(cells: Sequence[Any], source: str) -> dict[str, Any]:
    """The description from the hidden sheet's cells, its layout checked (`check_description`)."""
    text = "".join(str(c) for c in cells if c is not None)
    try:
        description = json.loads(text)
    except ValueError as exc:
        raise DataError(f"{source}: the hidden _titanic_nn sheet is damaged ({exc}); write the workbook again") from exc
    except RecursionError as exc:
        raise DataError(f"{source}: the hidden _titanic_nn sheet is nested too deeply; write the workbook again") from exc
    check_description(description, source)
    return description


def check_description(description: Any, source: str) -> None:
    """Every entry a reader uses, of the type and range `describe` writes; a DataError names the first that is not.

    The features, model settings and training records are checked by the validator model files share
    (`training/_validate.py`) when the reader builds them.
    """
    from ..training import nesting_problem
    from ._layout import data_rows

    fix = "write the workbook again with titanic-nn"

    def refuse(problem: str) -> DataError:
        return DataError(f"{source}: the hidden _titanic_nn sheet {problem}; {fix}")

    if not isinstance(description, dict):
        raise refuse(f"holds {type(description).__name__} JSON, not the table titanic-nn writes")
    version = description.get("format")
    if isinstance(version, bool) or version != FORMAT:
        raise DataError(
            f"{source}: written by another titanic-nn version (format {shown(version)}, this one reads {FORMAT}); "
            "write the workbook again with this version"
        )
    problem = nesting_problem(description)
    if problem:
        raise refuse(problem)
    for key in ("features", "models", "train_rows"):
        if key not in description:
            raise refuse(f"lacks its {key} entry")
    if not isinstance(description["models"], list) or not description["models"]:
        raise refuse("lists no models (its models entry is not a list of models)")
    for i, entry in enumerate(description["models"]):
        if not isinstance(entry, dict) or "name" not in entry or "config" not in entry:
            raise refuse(f"has a models[{i}] entry that is not a model with a name and a config")
    most = data_rows()
    for key in ("train_rows", "test_rows"):
        value = description.get(key)
        if key == "test_rows" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise refuse(f"says {key} is {shown(value)}, not a row count from 1 to {most:,}")
    for key in ("submission", "id_column"):
        value = description.get(key)
        if value is not None and not isinstance(value, str):
            raise refuse(f"says {key} is {shown(value)}, not a name")
    filled = description.get("filled")
    if filled is not None:
        if not isinstance(filled, dict):
            raise refuse("has a filled entry that is not a table")
        for sheet, columns in filled.items():
            if not isinstance(columns, dict):
                raise refuse(f"has a filled.{sheet} entry that is not a table")
            for column, rows in columns.items():
                if not isinstance(rows, list) or not all(isinstance(r, int) and not isinstance(r, bool) for r in rows):
                    raise refuse(f"has a filled.{sheet}.{column} entry that is not a list of row positions")
