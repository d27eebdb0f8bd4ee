"""Models built from the registry: a kind and one set of options, a saved config, or a model with K members."""

from __future__ import annotations

import inspect
from typing import Any

from .._constraints import MEMBERS
from ..errors import TitanicNNError
from ._ensemble import Ensemble
from ._models import MODELS, Model

__all__ = ["build_model", "model_from_config", "with_members", "with_outputs", "with_signed_output", "with_embeddings"]


def _kinds() -> str:
    return ", ".join(MODELS)


def build_model(kind: str, **settings: Any) -> Model:
    """A model of a registered `kind`, given the settings its class takes; None or settings it lacks are left out.

    So one set of options (hidden, layers, head, activation, output, loss) builds any kind.
    """
    if kind not in MODELS:
        raise TitanicNNError(f"unknown model kind {kind!r}; the kinds are {_kinds()}")
    cls = MODELS[kind]
    accepted = inspect.signature(cls).parameters
    return cls(**{k: v for k, v in settings.items() if k in accepted and v is not None})


def model_from_config(config: dict[str, Any]) -> Model:
    """Rebuild a model from `get_config()`."""
    if not isinstance(config, dict):
        raise TitanicNNError(f"a model's settings must be a table, not {type(config).__name__}")
    settings = dict(config)
    kind = settings.pop("kind", None)
    members = settings.pop("ensemble", None)  # a setting of any kind (nn/_ensemble.py), not a kind of its own
    if kind not in MODELS:
        raise TitanicNNError(f"unknown model kind {kind!r}; the kinds are {_kinds()}")
    try:
        model = MODELS[kind](**settings)
    except TypeError as exc:
        raise TitanicNNError(f"the settings of a {kind} model are damaged ({exc})") from exc
    return model if members is None else Ensemble(model, members)


def with_outputs(model: Model, outputs: int, output: str, loss: str | None = None) -> Model:
    """The same model (its members too) with `outputs` output units through `output`: what a target of several classes
    or labels asks of the models it is given."""
    config = model.get_config() | {"outputs": outputs, "output": output, "loss": loss}
    if outputs > 1 and "head" in config:  # a net ends in a linear head of one unit per output (a sum is one output)
        config["head"] = "linear"
    return model_from_config(config)


def with_signed_output(model: Model) -> Model:
    """`model`, its head made linear where it was left to its default, a sum of units: a sum of ReLUs is never
    negative, and a number to predict may be (a head given as "sum" is kept, as asked)."""
    member = model.member
    if getattr(member, "head", "given") is not None or getattr(member, "effective_head", "linear") != "sum":
        return model
    if not any(getattr(op, "nonnegative", False) for op in member.program()):
        return model  # units that go negative (tanh) sum to any number
    return model_from_config(model.get_config() | {"head": "linear"})


def with_members(model: Model, k: int) -> Model:
    """`model` itself for one member, else an ensemble of `k` members of it (`--ensemble K`)."""
    MEMBERS.check(k)
    return model if k == 1 else Ensemble(model, k)



def with_embeddings(model: Model, tables: Any) -> Model:
    """`model` (its members too) with one embedding table per embedded column of its features (`Features.embeddings_`,
    each (levels + 1, width)); `model` itself when those are its tables already."""
    tables = [[int(rows), int(width)] for rows, width in tables]
    if [list(shape) for shape in model.member.tables] == tables:
        return model
    config = model.get_config()
    if tables:
        config["embeddings"] = tables
    else:
        config.pop("embeddings", None)
    return model_from_config(config)
