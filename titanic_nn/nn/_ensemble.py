"""An ensemble: K members of one model kind, whose predictions are averaged.

An ensemble is a setting of any registered kind, not a kind of its own: its config is the member's
with `"ensemble": K` added (`{"kind": "nnet", ..., "ensemble": 3}`), so the registry, the command
line's kinds and files written before ensembles existed stay as they are. Its parameters are the list
of the K members' parameters; `arrays` lays the members' arrays end to end (member 0's first), so the
validator, the JSON and the workbook's reader handle it through `shapes` and `arrays` like any model.
predict is the mean of the members' predictions (outputs or probabilities), thresholded at 0.5 as usual.
"""

from __future__ import annotations

from typing import Any, Sequence

from .._lazy import numpy as np
from ..errors import TitanicNNError
from ._models import Model

__all__ = ["Ensemble", "MAX_MEMBERS", "members_of"]

# Members an ensemble may have: each is a block of parameters and a set of columns on its sheet.
MAX_MEMBERS = 64


class Ensemble(Model):
    """The mean of `k` members' predictions, each member a `member`-like model with parameters of its own."""

    def __init__(self, member: Model, k: int) -> None:
        if isinstance(member, Ensemble):
            raise TitanicNNError("an ensemble's members must be plain models, not ensembles")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_MEMBERS:
            raise TitanicNNError(f"ensemble must be a whole number of members from 1 to {MAX_MEMBERS}, not {k!r}")
        self.member = member
        self.k = int(k)
        # the member's output and loss are the ensemble's: its loss is that of the averaged prediction
        super().__init__(output=member.output, loss=member.loss)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.member.kind

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.member.description

    @property
    def solver_defaults(self) -> dict[str, Any]:  # type: ignore[override]
        return self.member.solver_defaults

    def summary(self) -> str:
        return f"the average of {self.k} members' predictions, each {self.member.summary()}"

    def program(self) -> tuple:
        raise TitanicNNError("an ensemble has no single program; each member has its own (Ensemble.member)")

    hidden_program = program

    def shapes(self, n_features: int) -> list[tuple[int, ...]]:
        return self.member.shapes(n_features) * self.k

    @property
    def single_array(self) -> bool:
        return False

    def init(self, n_features: int, seed: int = 0) -> Any:
        return [self.member.init(n_features, seed=int(np.random.SeedSequence([int(seed), j]).generate_state(1)[0]))
                for j in range(self.k)]

    def split(self, params: Any) -> list[Any]:
        """The K members' parameters, each checked to be a member's."""
        if not isinstance(params, (list, tuple)) or len(params) != self.k:
            raise TitanicNNError(f"an ensemble of {self.k} takes a list of {self.k} members' parameters")
        return list(params)

    def arrays(self, params: Any) -> list[Any]:
        return [a for member in self.split(params) for a in self.member.arrays(member)]

    def from_arrays(self, arrays: Sequence[Any]) -> Any:
        per = len(arrays) // self.k
        if per * self.k != len(arrays):
            raise TitanicNNError(f"an ensemble of {self.k} needs a multiple of {self.k} arrays, got {len(arrays)}")
        return [self.member.from_arrays(arrays[j * per:(j + 1) * per]) for j in range(self.k)]

    def member_predictions(self, X: Any, params: Any) -> Any:
        """(rows, k): each member's float64 predictions, one column per member."""
        return np.stack([self.member.predict(X, p) for p in self.split(params)], axis=1)

    def predict(self, X: Any, params: Any) -> Any:
        # the sheet's AVERAGE of the members' Preds columns: their sum over k
        return self.member_predictions(X, params).sum(axis=1) / self.k

    def forward(self, X: Any, tensors: Sequence[Any], backend: Any) -> Any:
        raise TitanicNNError("an ensemble is trained member by member; train Ensemble.member")

    def get_config(self) -> dict[str, Any]:
        return self.member.get_config() | {"ensemble": self.k}

    def __repr__(self) -> str:
        return f"Ensemble({self.member!r}, k={self.k})"


def members_of(model: Model) -> tuple[Model, int]:
    """(the member model, K): (model, 1) for a plain model."""
    return (model.member, model.k) if isinstance(model, Ensemble) else (model, 1)
