"""An ensemble: K members of one model kind, whose predictions are averaged.

An ensemble is a setting of any registered kind, not a kind of its own: its config is the member's
with `"ensemble": K` added (`{"kind": "nnet", ..., "ensemble": 3}`), so the registry, the command
line's kinds and files written before ensembles existed stay as they are. A plain model is a model of
one member, itself (`Model.member`, `Model.k`): an ensemble only says it has K, and how its parameters
split among them (the list of the members' parameters). Everything else, from predicting (the mean of the
members', `Model.combine`) to the sheets and the files, loops over the members for every model alike.
"""

from __future__ import annotations

from typing import Any, Sequence

from .._constraints import MEMBERS
from ..errors import TitanicNNError
from ._models import Model

__all__ = ["Ensemble", "MAX_MEMBERS"]

# Members an ensemble may have: each is a block of parameters and a set of columns on its sheet.
MAX_MEMBERS = MEMBERS.high


class Ensemble(Model):
    """The mean of `k` members' predictions, each member a `member`-like model with parameters of its own."""

    def __init__(self, member: Model, k: int) -> None:
        if member.k != 1:
            raise TitanicNNError("an ensemble's members must be plain models, not ensembles")
        MEMBERS.check(k)
        self._member = member
        self._k = int(k)
        # the member's output and loss are the ensemble's: its loss is that of the averaged prediction
        super().__init__(output=member.output, loss=member.loss, outputs=member.outputs)

    @property
    def member(self) -> Model:
        return self._member

    @property
    def k(self) -> int:
        return self._k

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

    def hidden_program(self) -> tuple:
        return self.member.hidden_program()

    def program(self) -> tuple:
        """Each member's program (the members differ only in their parameters)."""
        return self.member.program()

    def shapes(self, n_features: int) -> list[tuple[int, ...]]:
        return self.member.shapes(n_features) * self.k

    @property
    def single_array(self) -> bool:
        return False

    def init(self, n_features: int, seed: int = 0) -> Any:
        """Member j's parameters as its own training starts them: the member's init with seed `seed + j`."""
        return [self.member.init(n_features, seed=int(seed) + j) for j in range(self.k)]

    def split(self, params: Any) -> list[Any]:
        if not isinstance(params, (list, tuple)) or len(params) != self.k:
            raise TitanicNNError(f"an ensemble of {self.k} takes a list of {self.k} members' parameters")
        return list(params)

    def join(self, members: Sequence[Any]) -> Any:
        return list(members)

    def arrays(self, params: Any) -> list[Any]:
        return [a for member in self.split(params) for a in self.member.arrays(member)]

    def from_arrays(self, arrays: Sequence[Any]) -> Any:
        per = len(arrays) // self.k
        if per * self.k != len(arrays):
            raise TitanicNNError(f"an ensemble of {self.k} needs a multiple of {self.k} arrays, got {len(arrays)}")
        return [self.member.from_arrays(arrays[j * per:(j + 1) * per]) for j in range(self.k)]

    def forward(self, X: Any, tensors: Sequence[Any], backend: Any) -> Any:
        raise TitanicNNError("an ensemble is trained member by member; train Ensemble.member")

    def get_config(self) -> dict[str, Any]:
        return self.member.get_config() | {"ensemble": self.k}

    def __repr__(self) -> str:
        return f"Ensemble({self.member!r}, k={self.k})"
