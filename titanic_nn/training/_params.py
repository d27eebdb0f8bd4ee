"""A model's parameters as plain nested lists of floats (a model file's, a workbook's record) and back, checked."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TitanicNNError
from ..nn import Model

__all__ = ["params_to_lists", "params_from_lists"]


def params_to_lists(params: Any) -> Any:
    """Parameters (an array, or a list of arrays) as nested lists of Python floats, exactly."""
    if isinstance(params, (list, tuple)):
        return [params_to_lists(p) for p in params]
    array = np.asarray(params, dtype=np.float64)
    return array.tolist()


def params_from_lists(model: Model, data: Any, n_features: int) -> Any:
    """The inverse of `params_to_lists`, checked against the shapes the model needs."""
    try:  # each member's parameters, checked as its member's
        members = model.split(data)
    except TitanicNNError:
        raise TitanicNNError(f"the saved parameters must list {model.k} members' parameters, one per member") from None
    return model.join([_member_params(model.member, member, n_features) for member in members])


def _member_params(model: Model, data: Any, n_features: int) -> Any:
    try:
        params = np.asarray(data, dtype=np.float64) if model.single_array else [np.asarray(p, dtype=np.float64) for p in data]
        arrays = model.arrays(params)
    except (TypeError, ValueError, TitanicNNError) as exc:
        raise TitanicNNError(f"the saved parameters do not fit {model!r}: {exc}") from exc
    expected = model.shapes(n_features)
    if [a.shape for a in arrays] != expected:
        raise TitanicNNError(
            f"the saved parameters have shapes {[a.shape for a in arrays]}, but {model!r} on "
            f"{n_features} features needs {expected}"
        )
    return model.from_arrays(arrays)
