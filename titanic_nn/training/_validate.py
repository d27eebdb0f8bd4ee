"""One validator for saved models: a model file's, or a workbook's record of one, checked completely before use.

Types, shapes, finiteness and version are checked by one set of functions that `FittedModel.from_dict`
(so `load_model`, `titanic-nn predict` and `workbook --models`) and the workbook reader (`import`,
`verify`) all call. A problem raises `InvalidModelError` naming where it sits (`params[0][3]`,
`features.divisors.Age`); the caller adds the file and the fix.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np

from .._constraints import EMBED_ROWS, EMBED_WIDTH, HIDDEN, MEMBERS, Constraint
from .._plain import shown
from ..errors import DataError, InvalidModelError, TitanicNNError

__all__ = [
    "MAX_DEPTH", "nesting_problem", "check_depth", "check_model_dict", "check_features", "check_config",
    "check_params", "check_record", "finite_problem",
]

# Nesting a model file or a workbook's metadata may have: titanic-nn writes at most 6 levels.
MAX_DEPTH = 32
MAX_NAME_CHARS = 255


def nesting_problem(data: Any, limit: int = MAX_DEPTH) -> str | None:
    """Why `data` is nested too deeply (None when it is not), found without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return f"is nested more than {limit} levels deep"
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


def check_depth(data: Any, where: str) -> None:
    problem = nesting_problem(data)
    if problem:
        raise InvalidModelError(f"{where} {problem}")


def finite_problem(value: Any) -> str | None:
    """Why `value` is not a finite number (None when it is): text, a boolean, NaN or an infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"is {_kind(value)}, not a number"
    if not math.isfinite(value):
        return f"is {shown(value)}, not a finite number"
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {shown(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return shown(value)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidModelError(f"{where} is {_kind(value)}, not a table")
    return value


def _text(value: Any, where: str, *, name: bool = False) -> str:
    """Text; with `name`, a model's name, which messages print: short, on one line."""
    if not isinstance(value, str):
        raise InvalidModelError(f"{where} is {_kind(value)}, not text")
    if name and (len(value) > MAX_NAME_CHARS or any(ord(c) < 32 for c in value)):
        raise InvalidModelError(f"{where} is {shown(value)}: names are at most {MAX_NAME_CHARS} characters, no control characters")
    return value


def _level(value: Any, where: str) -> None:
    """A categorical level: text or a finite number."""
    if isinstance(value, str):
        return
    problem = finite_problem(value)
    if problem:
        raise InvalidModelError(f"{where} {problem.replace('not a number', 'not a level (text or a number)')}")


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidModelError(f"{where} is {_kind(value)}, not a list")
    return value


# -- the whole file --------------------------------------------------------------------------------


def check_model_dict(data: Any, *, format_name: str, format_version: int) -> None:
    """A model file's dict (`FittedModel.to_dict()`), every entry checked; InvalidModelError names the first problem."""
    if not isinstance(data, dict) or data.get("format") != format_name:
        raise InvalidModelError(f'this is not a titanic-nn model: it has no "format": "{format_name}" entry')
    check_depth(data, "the model")
    version = data.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidModelError(f"format_version is {_kind(version)}, not a version number such as {format_version}")
    if version > format_version:
        raise InvalidModelError(
            f"this model was saved in format version {version} (by titanic-nn {shown(data.get('library_version', '?'))}), "
            f"newer than this titanic-nn reads ({format_version}); upgrade titanic-nn to load it"
        )
    missing = [k for k in ("model", "features", "params") if k not in data]
    if missing:
        raise InvalidModelError(f"this titanic-nn model lacks {', '.join(missing)}")
    if "name" in data:
        _text(data["name"], "name", name=True)
    check_record(data.get("training"), "training")


def check_config(config: Any, where: str = "model") -> Any:
    """The model its settings describe (`Model.get_config()`), built only from values of the right types."""
    from ..nn import MODELS, model_from_config

    config = _mapping(config, where)
    kind = config.get("kind")
    if not isinstance(kind, str) or kind not in MODELS:
        raise InvalidModelError(f"{where}.kind is {shown(kind)}, not one of the model kinds ({', '.join(MODELS)})")
    for key, value in config.items():
        if key == "embeddings":
            _tables(value, f"{where}.{key}")
        elif isinstance(value, list):
            for i, width in enumerate(value):
                _within(HIDDEN, width, f"{where}.{key}[{i}]")
        elif value is not None and not isinstance(value, (str, int, float)):
            raise InvalidModelError(f"{where}.{key} is {_kind(value)}, not a setting")
        elif key == "hidden" and value is not None:
            _within(HIDDEN, value, f"{where}.{key}")
        elif key == "ensemble":
            _within(MEMBERS, value, f"{where}.{key}")
    try:
        return model_from_config(dict(config))
    except (TitanicNNError, TypeError, ValueError) as exc:
        raise InvalidModelError(f"{where} holds settings no model takes ({_message(exc)})") from exc


def _tables(value: Any, where: str) -> None:
    """A model's embedding tables: a list of [rows, width] pairs, each a whole number in its range."""
    if not isinstance(value, list):
        raise InvalidModelError(f"{where} is {_kind(value)}, not a list of [rows, width] pairs")
    for i, shape in enumerate(value):
        if not isinstance(shape, list) or len(shape) != 2:
            raise InvalidModelError(f"{where}[{i}] is {_kind(shape)}, not a [rows, width] pair")
        _within(EMBED_ROWS, shape[0], f"{where}[{i}][0]")
        _within(EMBED_WIDTH, shape[1], f"{where}[{i}][1]")


def _within(constraint: Constraint, value: Any, where: str) -> None:
    # JSON's numbers only: a float 2.0 is no count of units, however whole
    if not isinstance(value, int) or constraint.problem(value):
        raise InvalidModelError(f"{where} is {_kind(value)}, not {constraint.describe()}")


def _message(exc: BaseException) -> str:
    """The problem an error states, without the fix it names (the caller names the fix for its file)."""
    text = " ".join(str(exc).split()).split("; ")[0].rstrip(".")
    return text.removeprefix("schema: ")


# -- features ---------------------------------------------------------------------------------------


def check_features(data: Any, where: str = "features") -> Any:
    """Fitted `Features` from their saved dict (`Features.to_dict()`), every statistic checked first."""
    from ..features import MISSING, Features, Schema

    data = _mapping(data, where)
    check_depth(data, where)
    for key in ("schema", "missing", "levels", "references", "divisors", "fill_values", "feature_names"):
        if key not in data:
            raise InvalidModelError(f"{where} lacks {key}")
    if not isinstance(data["missing"], str) or data["missing"] not in MISSING:
        raise InvalidModelError(f"{where}.missing is {shown(data['missing'])}, not one of {', '.join(MISSING)}")
    try:
        schema = Schema.from_dict(_mapping(data["schema"], f"{where}.schema"))
    except DataError as exc:
        raise InvalidModelError(f"{where}.schema: {_message(exc)}") from exc
    for section in ("levels", "references"):
        for column, levels in _mapping(data[section], f"{where}.{section}").items():
            for i, level in enumerate(_list(levels, f"{where}.{section}.{column}")):
                _level(level, f"{where}.{section}.{column}[{i}]")
    for column, divisor in _mapping(data["divisors"], f"{where}.divisors").items():
        problem = finite_problem(divisor)
        if problem:
            raise InvalidModelError(f"{where}.divisors.{column} {problem}")
        if divisor == 0:
            raise InvalidModelError(f"{where}.divisors.{column} is 0: a column is divided by its training max, never by 0")
    for column, value in _mapping(data["fill_values"], f"{where}.fill_values").items():
        _level(value, f"{where}.fill_values.{column}")
    for i, name in enumerate(_list(data["feature_names"], f"{where}.feature_names")):
        _text(name, f"{where}.feature_names[{i}]")
    for spec in schema.categorical:
        levels = data["levels"].get(spec.column)
        if spec.names is not None and levels is not None and len(levels) != len(spec.names):
            raise InvalidModelError(
                f"{where}.levels.{spec.column} lists {len(levels)} levels but the schema names {len(spec.names)} dummies"
            )
    try:
        return Features.from_dict(dict(data))
    except (DataError, KeyError, TypeError, ValueError) as exc:
        raise InvalidModelError(f"{where}: {_message(exc)}") from exc


# -- parameters ------------------------------------------------------------------------------------


def check_params(model: Any, data: Any, n_features: int, where: str = "params") -> Any:
    """The model's parameters from nested lists, each a finite number, in exactly the shapes the model needs."""
    from ._params import params_from_lists

    check_depth(data, where)
    stack: list[tuple[Any, str]] = [(data, where)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, list):
            stack.extend((v, f"{at}[{i}]") for i, v in reversed(list(enumerate(value))))
            continue
        problem = finite_problem(value)
        if problem:
            raise InvalidModelError(f"{at} {problem}")
    try:
        return params_from_lists(model, data, n_features)
    except (TitanicNNError, TypeError, ValueError) as exc:
        raise InvalidModelError(f"{where}: {_message(exc)}") from exc


def finite_array(values: Iterable[Any], where: str) -> np.ndarray:
    """float64 values, each checked finite; InvalidModelError names the first that is not."""
    array = np.asarray(list(values), dtype=np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        raise InvalidModelError(f"{where}[{int(bad.argmax())}] is {shown(float(array[bad.argmax()]))}, not a finite number")
    return array


# -- the training record ------------------------------------------------------------------------------

# Entries of a training record that are read as numbers (the results table, the best model, the loss sheet).
NUMBERS = (
    "loss", "train_loss", "valid_loss", "train_mse", "valid_mse", "seconds",
    *(f"{side}_{key}" for key in ("accuracy", "rmse", "mae", "r2") for side in ("train", "valid")),
)


def check_record(data: Any, where: str = "training") -> dict[str, Any]:
    """The training record: a table whose scores are numbers and whose loss history is lists of finite numbers."""
    if data is None:
        return {}
    data = _mapping(data, where)
    check_depth(data, where)
    method = data.get("method")
    if method is not None and not isinstance(method, str):
        raise InvalidModelError(f"{where}.method is {_kind(method)}, not text")
    for key in NUMBERS:
        value = data.get(key)
        if value is not None:
            problem = finite_problem(value)
            if problem:
                raise InvalidModelError(f"{where}.{key} {problem}")
    history = data.get("history")
    if history is not None:
        for split, values in _mapping(history, f"{where}.history").items():
            if values is None:
                continue
            for i, value in enumerate(_list(values, f"{where}.history.{split}")):
                problem = finite_problem(value)
                if problem:
                    raise InvalidModelError(f"{where}.history.{split}[{i}] {problem}")
    return dict(data)
