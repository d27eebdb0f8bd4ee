"""The lesson's models, each written once as a program of ops, and the one registry their kinds are looked up in.

`MODELS` maps a kind ("linear", "nnet", "mmult") to its class; the estimator, the command line's
choices, the about sheet and the shipped workbook all read it (nn/_build.py builds from it). Each class
carries its own description and solver defaults.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Sequence

from .. import excel
from .._constraints import EMBED_ROWS, EMBED_WIDTH, HIDDEN, LAYERS, OUTPUT_UNITS
from .._lazy import numpy as np
from ..errors import TitanicNNError
from ._losses import LOSSES, Loss
from ._ops import ACTIVATIONS, Activation, AddBias, Embed, MatMul, Op, Sigmoid, Softmax, SumUnits, evaluate

__all__ = ["Model", "Linear", "TwoReLU", "MatMulNet", "Tabular", "MODELS", "register_model", "OUTPUTS", "DEFAULT_LOSS"]

# What the last units pass through: nothing (a number), a sigmoid (a probability per output unit) or a softmax (the
# probabilities of `outputs` classes).
OUTPUTS = ("raw", "sigmoid", "softmax")
# The loss each output trains with unless told: a softmax's cross-entropy, otherwise the lesson's squared error.
DEFAULT_LOSS = {"softmax": "crossentropy"}

MODELS: dict[str, type["Model"]] = {}


def register_model(cls: type["Model"]) -> type["Model"]:
    """Register a Model class under its `kind`."""
    MODELS[cls.kind] = cls
    return cls


class Model:
    """A model: settings stored unchanged, a program of ops, and parameters as plain float64 arrays.

    `params` is the public form (what `init` returns and `predict` takes); `arrays(params)` is the
    same numbers as the list of arrays the program indexes, every weight a matrix.
    """

    kind: ClassVar[str]
    # What its sheet holds, for the workbook's about sheet.
    description: ClassVar[str] = ""
    # fit_solver's method and number of random starts; tuned on the bundled data (docs/trainers.md).
    solver_defaults: ClassVar[dict[str, Any]] = {"method": "TNC", "restarts": 20}
    # One of the lesson's kinds, which a run trains unless told which (`--kinds`).
    lesson: ClassVar[bool] = True

    def __init__(
        self, *, output: str = "raw", loss: str | None = None, outputs: int = 1, embeddings: Sequence[Sequence[int]] = ()
    ) -> None:
        self.output = output
        self.loss = loss
        self.outputs = outputs
        self.embeddings = embeddings
        self._check_output()
        self._check_embeddings()

    def _check_embeddings(self) -> None:
        for shape in self.embeddings:
            if not isinstance(shape, (list, tuple)) or len(shape) != 2:
                raise TitanicNNError(f"embeddings lists each table's (levels + 1, width), not {shape!r}")
            EMBED_ROWS.check(shape[0], "an embedding table's rows")
            EMBED_WIDTH.check(shape[1], "an embedding's width")

    @property
    def tables(self) -> list[tuple[int, int]]:
        """The embedding tables' shapes, (levels + 1, width), one per embedded column (`Features.embeddings_`)."""
        return [(int(rows), int(width)) for rows, width in self.embeddings]

    def _check_output(self) -> None:
        if self.output not in OUTPUTS:
            raise TitanicNNError(f"output must be one of {', '.join(OUTPUTS)}, not {self.output!r}")
        OUTPUT_UNITS.check(self.outputs)
        if self.loss is not None and self.loss not in LOSSES:
            raise TitanicNNError(f"loss must be one of {', '.join(repr(k) for k in LOSSES)}, not {self.loss!r}")
        if self.loss == "logloss" and self.output != "sigmoid":
            raise TitanicNNError("loss='logloss' needs output='sigmoid': log loss is defined on probabilities")
        if (self.output == "softmax") != (self.loss_name == "crossentropy"):
            raise TitanicNNError(
                "output='softmax' trains with loss='crossentropy' and cross-entropy needs a softmax: give both or neither"
            )
        if self.output == "softmax" and self.outputs < 2:
            raise TitanicNNError("output='softmax' needs outputs of 2 or more: the probabilities of several classes")

    def summary(self) -> str:
        """What the model's sheet computes, for the about sheet: its kind's description and its settings."""
        return self.description + self._output_summary()

    def _output_summary(self) -> str:
        if self.output == "softmax":
            return f", {self.outputs} outputs through a softmax"
        units = f", {self.outputs} outputs" if self.outputs > 1 else ""
        return units + (", through a sigmoid" if self.output == "sigmoid" else "")

    # -- members: a plain model is one member, itself; an ensemble (nn/_ensemble.py) is k of one model ------------
    # Every reader and writer loops over `range(model.k)`, each member `model.member` with its part of the
    # parameters (`split`), and makes the model's prediction from the members' (`combine`).

    @property
    def member(self) -> "Model":
        """The model each member is: the model itself."""
        return self

    @property
    def k(self) -> int:
        """How many members: one."""
        return 1

    def split(self, params: Any) -> list[Any]:
        """Each member's parameters, in order: a plain model's are its own."""
        return [params]

    def join(self, members: Sequence[Any]) -> Any:
        """The inverse of `split`."""
        return members[0]

    def member_label(self, j: int) -> str:
        """What member j's columns and blocks are headed with: nothing when the model is its one member, else "m1 "."""
        return "" if self.k == 1 else f"m{j + 1} "

    @staticmethod
    def combine(predictions: Sequence[Any]) -> Any:
        """The model's prediction from its members': the mean (added in order, as the sheet's AVERAGE adds), which for
        one member is that member's prediction."""
        if len(predictions) == 1:
            return predictions[0]
        total = np.array(predictions[0], dtype=np.float64)
        for prediction in predictions[1:]:
            total = total + prediction
        return total / len(predictions)

    @staticmethod
    def excel_combine(predictions: Sequence[str]) -> str | None:
        """`combine` as a formula of the members' prediction cells (None: one member's cell is the prediction)."""
        return None if len(predictions) == 1 else excel.AVERAGE(*predictions)

    @property
    def loss_name(self) -> str:
        """`loss`, or its output's default: cross-entropy under a softmax, else the lesson's squared error."""
        return self.loss or DEFAULT_LOSS.get(self.output, "mse")

    @property
    def loss_op(self) -> Loss:
        return LOSSES[self.loss_name]

    # -- structure, written once ------------------------------------------------------------------

    def hidden_program(self) -> tuple[Op, ...]:
        """The computation up to the output's values: one per row (the lesson's, ending in a sum of units), or
        `outputs` per row."""
        raise NotImplementedError

    def program(self) -> tuple[Op, ...]:
        """The whole computation, from inputs to predictions: `hidden_program` through the output's sigmoid (each
        value) or softmax (over a row's values)."""
        final = {"sigmoid": (Sigmoid(),), "softmax": (Softmax(),)}.get(self.output, ())
        return self._embed_program() + self.hidden_program() + final

    def _embed_program(self) -> tuple[Op, ...]:
        """One Embed per embedded column, its table numbered after the other parameters (a model written before
        embeddings, with `shapes` and `arrays` of its own, has none)."""
        if not self.tables:
            return ()
        first = len(self.hidden_shapes(1))
        return tuple(Embed(first + j) for j in range(len(self.tables)))

    def _one_value(self) -> tuple[Op, ...]:
        """The sum of the units into one value per row when the model has one output (nothing for several)."""
        return (SumUnits(),) if self.outputs == 1 else ()

    def shapes(self, n_features: int) -> list[tuple[int, ...]]:
        """The shape of each array the program indexes: the hidden program's on the inputs as the embeddings leave them
        (each level's number replaced by its k values), then the tables."""
        widened = n_features + sum(width - 1 for _, width in self.tables)
        return self.hidden_shapes(widened) + [tuple(shape) for shape in self.tables]

    def hidden_shapes(self, n_inputs: int) -> list[tuple[int, ...]]:
        """The shape of each array `hidden_program` indexes, on `n_inputs` inputs."""
        raise NotImplementedError

    @property
    def single_array(self) -> bool:
        """True when the public parameters are one array (not a list of arrays)."""
        return not self.tables and self._hidden_single

    @property
    def _hidden_single(self) -> bool:
        """True when the hidden program's public parameters are one array."""
        return True

    # -- parameters -------------------------------------------------------------------------------

    def init(self, n_features: int, seed: int = 0) -> Any:
        """Random parameters drawn from uniform(-0.5, 0.5), like the sheet's RAND()-0.5."""
        rng = np.random.default_rng(seed)
        return self.from_arrays([rng.uniform(-0.5, 0.5, size=s) for s in self.shapes(n_features)])

    def arrays(self, params: Any) -> list[Any]:
        """The public parameters as the program's list of float64 arrays (with embeddings: the hidden program's public
        parameters, one array or its list, then the tables: a list)."""
        if not self.tables:
            return self.hidden_arrays(params)
        count = len(self.tables)
        if not isinstance(params, (list, tuple)) or len(params) < count + 1:
            raise TitanicNNError(f"{self!r} takes a list of parameter arrays, the {count} embedding table(s) last")
        hidden = params[0] if self._hidden_single else list(params[:-count])
        return self.hidden_arrays(hidden) + [_as_float(table, 2) for table in params[-count:]]

    def from_arrays(self, arrays: Sequence[Any]) -> Any:
        """The inverse of `arrays`."""
        if not self.tables:
            return self.hidden_from_arrays(arrays)
        count = len(self.tables)
        hidden = self.hidden_from_arrays(arrays[:-count])
        tables = [np.asarray(a, dtype=np.float64).copy() for a in arrays[-count:]]
        return ([hidden] if self._hidden_single else list(hidden)) + tables

    def hidden_arrays(self, params: Any) -> list[Any]:
        """The hidden program's public parameters as its list of float64 arrays."""
        raise NotImplementedError

    def hidden_from_arrays(self, arrays: Sequence[Any]) -> Any:
        """The inverse of `hidden_arrays`."""
        raise NotImplementedError

    def decay_masks(self, n_features: int) -> list[Any]:
        """Each of one member's arrays' weight-decay mask (1: decayed), from the ops of its program that use them."""
        from ._ops import decay_masks

        member = self.member
        return decay_masks(member.program(), member.shapes(n_features))

    def n_params(self, n_features: int) -> int:
        return sum(math.prod(s) for s in self.shapes(n_features))

    def flatten(self, params: Any) -> Any:
        return np.concatenate([a.reshape(-1) for a in self.arrays(params)])

    def unflatten(self, flat: Any, n_features: int) -> Any:
        arrays, start = [], 0
        for shape in self.shapes(n_features):
            size = math.prod(shape)
            arrays.append(np.asarray(flat[start : start + size], dtype=np.float64).reshape(shape))
            start += size
        return self.from_arrays(arrays)

    # -- computing --------------------------------------------------------------------------------

    def predict(self, X: Any, params: Any) -> Any:
        """Predictions in float64 numpy: the numbers the spreadsheet must reproduce (the members' combined)."""
        X = np.asarray(X, dtype=np.float64)
        return self.combine([self.member.predict_member(X, p) for p in self.split(params)])

    def predict_member(self, X: Any, params: Any) -> Any:
        """One member's predictions: its program on X, in float64 numpy."""
        from ._backends import NUMPY

        arrays = self.arrays(params)
        expected = self.shapes(X.shape[1])
        if [a.shape for a in arrays] != expected:
            raise TitanicNNError(
                f"{type(self).__name__} on {X.shape[1]} features needs parameters of shapes {expected}, "
                f"got {[a.shape for a in arrays]}"
            )
        return evaluate(self.program(), X, arrays, NUMPY)

    def forward(self, X: Any, tensors: Sequence[Any], backend: Any) -> Any:
        """The same program on torch tensors (each tensor may carry a leading batch axis of restarts)."""
        return evaluate(self.program(), X, tensors, backend)

    # -- persistence ------------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "output": self.output, "loss": self.loss, **self._outputs_config()}

    def _outputs_config(self) -> dict[str, Any]:
        # left out at their defaults, so files written before several outputs or embeddings existed read the same
        config: dict[str, Any] = {"outputs": self.outputs} if self.outputs != 1 else {}
        if self.tables:
            config["embeddings"] = [list(shape) for shape in self.tables]
        return config

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "kind")
        return f"{type(self).__name__}({settings})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(self))


def _as_float(params: Any, ndim: int | None = None) -> Any:
    array = np.array(params, dtype=np.float64)
    if ndim is not None and array.ndim != ndim:
        raise TitanicNNError(f"expected parameters with {ndim} dimension(s), got shape {array.shape}")
    return array


class Linear(Model):
    """pred = X . w, the lesson's `linear` sheet (one SUMPRODUCT per row); w of shape (n_features,)."""

    kind = "linear"
    description = "a linear model: one SUMPRODUCT per row"
    # its loss has one minimum, so one L-BFGS-B start finds it
    solver_defaults = {"method": "L-BFGS-B", "restarts": 1}

    def hidden_program(self) -> tuple[Op, ...]:
        return (MatMul(0),) + self._one_value()

    def hidden_shapes(self, n_inputs: int) -> list[tuple[int, ...]]:
        return [(n_inputs, self.outputs)]

    def hidden_arrays(self, params: Any) -> list[Any]:
        if self.outputs > 1:  # one column of weights per output: multinomial logistic regression under a softmax
            return [_as_float(params, 2)]
        return [_as_float(params, 1).reshape(-1, 1)]

    def hidden_from_arrays(self, arrays: Sequence[Any]) -> Any:
        array = np.asarray(arrays[0], dtype=np.float64)
        return array.copy() if self.outputs > 1 else array.reshape(-1).copy()


class MatMulNet(Model):
    """activation(X @ W) summed over its units, the lesson's `mmult` sheet (one MMULT), any width.

    `layers=[h1, h2, ...]` chains matrix products with the activation between them; `head="sum"` (the
    sheet's) adds the last layer's units, `head="linear"` ends with a linear layer and a constant
    instead; `head=None` (the default) is "sum" for a raw output and "linear" for a sigmoid output,
    whose input must be able to go negative (`effective_head` says which). A sum head over ReLUs
    under a sigmoid is refused: the sum is never negative, so the sigmoid never falls below 0.5.
    `activation` names an op of `ACTIVATIONS`: "relu" (the lesson's) or "tanh".
    Parameters: one (n_features, hidden) matrix whose column j is unit j for a one-layer sum head;
    otherwise the list [W1, W2, ..., (w_head (h,), b_head scalar for a linear head)].
    """

    kind = "mmult"
    description = "the same kind of net computed by MMULT array formulas over the whole block"
    HEADS = ("sum", "linear")

    def __init__(
        self,
        hidden: int = 2,
        *,
        layers: Sequence[int] | None = None,
        head: str | None = None,
        activation: str = "relu",
        output: str = "raw",
        loss: str | None = None,
        outputs: int = 1,
        embeddings: Sequence[Sequence[int]] = (),
    ) -> None:
        self.hidden = hidden
        self.layers = layers
        self.head = head
        self.activation = activation
        super().__init__(output=output, loss=loss, outputs=outputs, embeddings=embeddings)
        if head == "sum" and outputs > 1:
            raise TitanicNNError(f"head='sum' adds the units into one output; {outputs} outputs need head='linear'")
        if head is not None and head not in self.HEADS:
            raise TitanicNNError(f"head must be one of {', '.join(map(repr, self.HEADS))} or None, not {head!r}")
        if activation not in ACTIVATIONS:
            raise TitanicNNError(f"activation must be one of {', '.join(ACTIVATIONS)}, not {activation!r}")
        HIDDEN.check(hidden)  # stored and saved even when `layers` gives the widths
        if layers is not None:
            LAYERS.check(layers)
        self._check_sigmoid_input()

    def summary(self) -> str:
        head = ", then their sum" if self.effective_head == "sum" else ", then a linear head (weights and a bias)"
        return self.description + head + self._output_summary()

    @property
    def effective_head(self) -> str:
        """The head the model has: `head`, or for head=None "linear" under a sigmoid output and "sum" otherwise."""
        if self.head is not None:
            return self.head
        return "linear" if self.output != "raw" or self.outputs > 1 else "sum"

    def _check_sigmoid_input(self) -> None:
        """Refuse a sigmoid over a sum of units that are never negative: it could never predict below 0.5."""
        program = self.program()
        if self.output != "sigmoid" or len(program) < 3 or not isinstance(program[-2], SumUnits):
            return
        units = program[-3]
        if isinstance(units, Activation) and units.nonnegative:
            name = getattr(units, "registered_name", type(units).__name__)
            raise TitanicNNError(
                f"head='sum' with output='sigmoid': a sum of {name} units is never negative, so its sigmoid never "
                "falls below 0.5 and no row can get a low probability; use head='linear' (the default with "
                f"output='sigmoid') or an activation that can go negative"
            )

    @property
    def widths(self) -> list[int]:
        return list(self.layers) if self.layers is not None else [self.hidden]

    @property
    def single_matrix(self) -> bool:
        """True when the parameters are one (n_features, hidden) matrix."""
        return len(self.widths) == 1 and self.effective_head == "sum"

    @property
    def _hidden_single(self) -> bool:
        return self.single_matrix

    def hidden_program(self) -> tuple[Op, ...]:
        unit = ACTIVATIONS[self.activation]
        program: list[Op] = []
        for i, _ in enumerate(self.widths):
            program += [MatMul(i, label="Lin" if i == 0 else f"L{i + 1}Lin"), unit()]
        if self.effective_head == "linear":
            k = len(self.widths)
            program += [MatMul(k, label="Head", numbered=self.outputs > 1), AddBias(k + 1)]
        return tuple(program) + self._one_value()

    def hidden_shapes(self, n_inputs: int) -> list[tuple[int, ...]]:
        sizes = [n_inputs] + self.widths
        shapes = [(a, b) for a, b in zip(sizes, sizes[1:])]
        if self.effective_head == "linear":
            shapes += [(sizes[-1], self.outputs), (self.outputs,)]
        return shapes

    def hidden_arrays(self, params: Any) -> list[Any]:
        if self.single_matrix:
            return [_as_float(params, 2)]
        if not isinstance(params, (list, tuple)):
            raise TitanicNNError(f"{self!r} takes a list of parameter arrays")
        arrays = [_as_float(p) for p in params]
        if self.effective_head == "linear" and len(arrays) >= 2 and self.outputs == 1:
            arrays[-2] = arrays[-2].reshape(-1, 1)
            arrays[-1] = arrays[-1].reshape(1)
        return arrays

    def hidden_from_arrays(self, arrays: Sequence[Any]) -> Any:
        arrays = [np.asarray(a, dtype=np.float64).copy() for a in arrays]
        if self.single_matrix:
            return arrays[0]
        if self.effective_head == "linear" and self.outputs == 1:
            arrays[-2] = arrays[-2].reshape(-1)
            arrays[-1] = np.asarray(arrays[-1].reshape(()))
        return arrays

    def get_config(self) -> dict[str, Any]:
        layers = None if self.layers is None else [int(w) for w in self.layers]
        config = {"kind": self.kind, "hidden": self.hidden, "layers": layers, "head": self.effective_head}
        if self.activation != "relu":  # left out at the default, so files written before it existed read the same
            config["activation"] = self.activation
        return config | {"output": self.output, "loss": self.loss, **self._outputs_config()}


class TwoReLU(MatMulNet):
    """relu(X . w1) + relu(X . w2), the lesson's `nnet` sheet (two SUMPRODUCTs per row).

    Parameters: one (n_features, 2) matrix, column j for unit j, so the same matrix gives identical
    predictions in `MatMulNet(hidden=2)`. Under `output="sigmoid"` the two ReLUs feed a linear head
    (`head`, as MatMulNet takes it), since their sum could never put the sigmoid below 0.5.
    """

    kind = "nnet"
    description = "a net of ReLUs: one SUMPRODUCT per unit and row, IF(x<0,0,x)"

    def __init__(
        self,
        *,
        head: str | None = None,
        output: str = "raw",
        loss: str | None = None,
        outputs: int = 1,
        embeddings: Sequence[Sequence[int]] = (),
    ) -> None:
        super().__init__(2, head=head, output=output, loss=loss, outputs=outputs, embeddings=embeddings)

    def get_config(self) -> dict[str, Any]:
        # the lesson's sum head is left out, so files written before heads existed read the same
        head = {"head": self.effective_head} if self.effective_head != "sum" else {}
        return {"kind": self.kind, **head, "output": self.output, "loss": self.loss, **self._outputs_config()}


class Tabular(MatMulNet):
    """fastai's tabular model, as the course's Titanic notebook uses it: hidden layers of ReLUs (`layers`, 10 and 10)
    and a linear head, on the features with each embedded column's table row (Categorical(embed=...)).

    No batch norm and no dropout: both need batch statistics or randomness that a sheet cannot repeat.
    """

    kind = "tabular"
    description = "fastai's tabular model: ReLU layers by MMULT, then a linear head"
    lesson = False

    def __init__(
        self,
        *,
        layers: Sequence[int] = (10, 10),
        activation: str = "relu",
        output: str = "raw",
        loss: str | None = None,
        outputs: int = 1,
        embeddings: Sequence[Sequence[int]] = (),
    ) -> None:
        super().__init__(
            layers[0] if len(layers) else 2, layers=layers, head="linear", activation=activation, output=output,
            loss=loss, outputs=outputs, embeddings=embeddings,
        )

    def get_config(self) -> dict[str, Any]:
        config = {"kind": self.kind, "layers": [int(w) for w in self.layers]}
        if self.activation != "relu":
            config["activation"] = self.activation
        return config | {"output": self.output, "loss": self.loss, **self._outputs_config()}


# The lesson's order: its sheets, the CLI's training order and the results table follow it; fastai's model last.
for _cls in (Linear, TwoReLU, MatMulNet, Tabular):
    register_model(_cls)
