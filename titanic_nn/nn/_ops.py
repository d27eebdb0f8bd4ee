"""The operations every model is written in: each op's forward and its derivative, once, for every backend.

A model is a program: a tuple of these ops applied in turn to the inputs. Every value flowing through
has units on its last axis, so a leading batch axis (several random starts at once) passes through.
Each op's `backward` sits beside its `forward` (micrograd style): given the gradient of the loss with
respect to its output it returns the gradient with respect to its input and to the parameter it uses.

Both are written with numpy's operators and the backend's few primitives (nn/_backends.py), so the same
code computes float64 numbers (numpy), trains (torch) and writes formulas (Excel, whose values are
`excel.Formula`s): the workbook's sheets are `trace` and `backprop` run on the Excel backends, and an op
names nothing of the sheet. A new activation is one `Activation` subclass here, registered with
`@activation`: its numpy, torch and Excel text and its derivative; it then trains, writes its model and
training sheets and verifies with no other code (docs/vocabulary.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Sequence

from .. import excel
from .._lazy import numpy as np

__all__ = [
    "Op", "Activation", "MatMul", "AddBias", "SumUnits", "Embed", "ReLU", "Tanh", "Sigmoid", "Softmax", "ACTIVATIONS",
    "activation", "evaluate", "trace", "backprop", "decay_masks",
]


class Op:
    """One step of a program. `param` is the index of the parameter array it uses (None: it uses none)."""

    param: ClassVar[int | None] = None

    def forward(self, x: Any, params: Sequence[Any], backend: Any) -> Any:
        raise NotImplementedError

    def backward(
        self, x: Any, out: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        """(d loss / d x, d loss / d its parameter) from d loss / d out; the first is None when not `need_input`."""
        raise NotImplementedError

    def names(self, inputs: list[str], shapes: Sequence[tuple[int, ...]]) -> list[str]:
        """The labels of the output units (the sheet's column headers), from the input units' labels."""
        return list(inputs)

    def decays(self, shape: tuple[int, ...]) -> Any:
        """Which entries of its parameter (of `shape`) weight decay shrinks: 1 where it does, 0 where not.

        A weight decays whole; an op whose parameter should not (a bias) or only in part (a table whose last row
        stands for unseen levels) says so here, so the rule follows the program, never the model's class.
        """
        return np.ones(shape)


@dataclass(frozen=True)
class MatMul(Op):
    """values @ params[weight]: (rows, n_in) @ (n_in, n_out); on the sheet a SUMPRODUCT per unit, or one MMULT.

    `label` names the output units on the sheet (Lin1, Lin2, ...; L2Lin1 for a second layer; Head).
    """

    weight: int
    label: str = field(default="Lin", compare=False)
    numbered: bool = field(default=True, compare=False)

    @property
    def param(self) -> int:  # type: ignore[override]
        return self.weight

    def forward(self, x: Any, params: Sequence[Any], backend: Any) -> Any:
        return x @ params[self.weight]

    def backward(
        self, x: Any, out: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        weight = params[self.weight]
        # summed over any batch axis the weight lacks (a shared input X has none)
        grad_in = grad @ weight.swapaxes(-1, -2) if need_input else None
        return grad_in, x.swapaxes(-1, -2) @ grad

    def names(self, inputs: list[str], shapes: Sequence[tuple[int, ...]]) -> list[str]:
        n_out = shapes[self.weight][1]
        return [f"{self.label}{j + 1}" for j in range(n_out)] if self.numbered else [self.label] * n_out


@dataclass(frozen=True)
class AddBias(Op):
    """values + params[bias], one constant per unit."""

    bias: int

    @property
    def param(self) -> int:  # type: ignore[override]
        return self.bias

    def forward(self, x: Any, params: Sequence[Any], backend: Any) -> Any:
        return x + params[self.bias][..., None, :]

    def backward(
        self, x: Any, out: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        return grad, grad.sum(-2)

    def decays(self, shape: tuple[int, ...]) -> Any:
        return np.zeros(shape)  # fastai decays no bias: shrinking an offset towards 0 regularises nothing


@dataclass(frozen=True)
class SumUnits(Op):
    """The sum over the units, ending with one value per row; the sheet's ReLU1+ReLU2+..."""

    def forward(self, x: Any, params: Sequence[Any], backend: Any) -> Any:
        return x.sum(-1)

    def backward(
        self, x: Any, out: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        return backend.broadcast_to(grad[..., None], x.shape), None

    def names(self, inputs: list[str], shapes: Sequence[tuple[int, ...]]) -> list[str]:
        return ["Logit"]


@dataclass(frozen=True)
class Embed(Op):
    """An embedded column: the first input, a level's number (1 to n, n + 1 for a level unseen in training), replaced by
    that row of the table params[table] (n + 1 rows of k values), put after the other inputs.

    The models start with one per embedded column (Model.embeddings), each taking the next number off the front,
    so the inputs end as the other features, then each column's k values. Its derivative adds each data row's
    gradient into the table row it looked up (the rows no data row looked up get none); a level's number is an
    index, with no gradient. On the sheet each value is INDEX(table, number, j): its cell holds the number.
    """

    table: int

    @property
    def param(self) -> int:  # type: ignore[override]
        return self.table

    def forward(self, x: Any, params: Sequence[Any], backend: Any) -> Any:
        return backend.embed(x, params[self.table])

    def backward(
        self, x: Any, out: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        table = params[self.table]
        width = table.shape[-1]
        grad_in = backend.unembed(grad[..., :-width]) if need_input else None
        return grad_in, backend.embed_grad(x, grad[..., -width:], table)

    def decays(self, shape: tuple[int, ...]) -> Any:
        mask = np.ones(shape)
        mask[..., -1, :] = 0.0  # the unseen levels' row: no training row looks it up, so decay alone would move it
        return mask

    def names(self, inputs: list[str], shapes: Sequence[tuple[int, ...]]) -> list[str]:
        column = inputs[0].removesuffix("_code")
        return list(inputs[1:]) + [f"{column} e{j + 1}" for j in range(shapes[self.table][1])]


class Activation(Op):
    """An op applied to each value on its own: its numpy, torch and Excel text and its derivative are all it needs.

    `label` names its output units (ReLU1 from Lin1). On the sheet its input gets a column of its own
    first, so each formula reads a cell (and the lesson's Lin and ReLU columns both show).
    """

    label: ClassVar[str]
    # True when every output is >= 0 (a ReLU's): a sum of such units can never go negative
    nonnegative: ClassVar[bool] = False

    def numpy(self, x: Any) -> Any:
        raise NotImplementedError

    def torch(self, x: Any) -> Any:
        raise NotImplementedError

    def derivative(self, x: Any, out: Any) -> Any:
        """d out / d x, elementwise, from the input and the output, with Python's operators only: the same code
        runs on numpy and torch arrays and on the Excel backend's formulas."""
        raise NotImplementedError

    def excel(self, x: str) -> str:
        """The formula of one output value from its input value's reference (or an array expression)."""
        raise NotImplementedError

    def forward(self, x: Any, params: Sequence[Any], backend: Any) -> Any:
        return backend.elementwise(self, x)

    def backward(
        self, x: Any, out: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        return grad * backend.derivative(self, x, out), None

    def names(self, inputs: list[str], shapes: Sequence[tuple[int, ...]]) -> list[str]:
        return [name.replace("Lin", self.label) if "Lin" in name else f"{self.label}({name})" for name in inputs]



ACTIVATIONS: dict[str, type[Activation]] = {}


def activation(name: str) -> Callable[[type[Activation]], type[Activation]]:
    """Register an Activation under `name`, the name models (`MatMulNet(activation=...)`) and the CLI use."""

    def register(cls: type[Activation]) -> type[Activation]:
        ACTIVATIONS[name] = cls
        cls.registered_name = name  # type: ignore[attr-defined]
        return cls

    return register


@activation("relu")
@dataclass(frozen=True)
class ReLU(Activation):
    """max(x, 0); the sheet's IF(x<0,0,x)."""

    label: ClassVar[str] = "ReLU"
    nonnegative: ClassVar[bool] = True

    def numpy(self, x: Any) -> Any:
        return np.where(x < 0, 0.0, x)

    def torch(self, x: Any) -> Any:
        return x.relu()

    def derivative(self, x: Any, out: Any) -> Any:
        return x > 0  # 0 at exactly 0, as torch's relu does

    def excel(self, x: str) -> str:
        return excel.IF(f"{x}<0", 0, x)


@activation("tanh")
@dataclass(frozen=True)
class Tanh(Activation):
    """tanh(x); the sheet's TANH(x)."""

    label: ClassVar[str] = "Tanh"

    def numpy(self, x: Any) -> Any:
        return np.tanh(x)

    def torch(self, x: Any) -> Any:
        return x.tanh()

    def derivative(self, x: Any, out: Any) -> Any:
        return 1.0 - out**2

    def excel(self, x: str) -> str:
        return excel.TANH(x)


@dataclass(frozen=True)
class Sigmoid(Activation):
    """1/(1+exp(-x)) with x held at -700 and above, written so in the sheet; the sigmoid output of any model.

    exp(700) is about 1e304, inside every engine's range; past it LibreOffice gives #NUM! where numpy gives inf,
    so every backend computes 1/(1+exp(-max(x, -700))) and all agree (below -700 the sigmoid is 1e-304, as good
    as its 0).
    """

    label: ClassVar[str] = "Sigmoid"
    nonnegative: ClassVar[bool] = True
    FLOOR: ClassVar[float] = -700.0

    def numpy(self, x: Any) -> Any:
        return 1.0 / (1.0 + np.exp(-np.maximum(x, self.FLOOR)))

    def torch(self, x: Any) -> Any:
        return x.clamp(min=self.FLOOR).sigmoid()  # torch's sigmoid is 1/(1+exp(-x)) to the last bit in float64

    def derivative(self, x: Any, out: Any) -> Any:
        return out * (1.0 - out)

    def excel(self, x: str) -> str:
        floored = excel.IF(f"{x}<{excel.number(self.FLOOR)}", excel.number(self.FLOOR), x)
        return f"1/(1+{excel.EXP('-' + floored)})"


@dataclass(frozen=True)
class Softmax(Op):
    """exp(x) / sum(exp(x)) over each row's units: the probabilities of K classes from their logits.

    Overflow-safe in every backend: numpy and a model sheet subtract the row's MAX first; torch's softmax does the
    same; a training sheet, whose values are whole blocks (no row's MAX), holds the logits within +-700 instead,
    where EXP stays within every engine's range (nn/_backends.py).
    """

    label: ClassVar[str] = "P"

    def forward(self, x: Any, params: Sequence[Any], backend: Any) -> Any:
        return backend.softmax(x)

    def backward(
        self, x: Any, out: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        # the Jacobian of p = softmax(x) applied to grad: p * (grad - sum(grad * p))
        return out * (grad - (grad * out).sum(-1)[..., None]), None

    def names(self, inputs: list[str], shapes: Sequence[tuple[int, ...]]) -> list[str]:
        return [f"P{j + 1}" for j in range(len(inputs))]


# -- running a program -------------------------------------------------------------------------------


def evaluate(program: Sequence[Op], inputs: Any, params: Sequence[Any], backend: Any) -> Any:
    """Run a program on inputs (rows, n_features) with params (each optionally with a leading batch axis)."""
    values = inputs
    for op in program:
        values = op.forward(values, params, backend)
    return values


def trace(program: Sequence[Op], inputs: Any, params: Sequence[Any], backend: Any) -> list[Any]:
    """Every value of the forward pass: [inputs, after op 1, ..., output]."""
    values = [inputs]
    for op in program:
        values.append(op.forward(values[-1], params, backend))
    return values


def backprop(program: Sequence[Op], values: Sequence[Any], params: Sequence[Any], grad: Any, backend: Any) -> list[Any]:
    """The gradient of the loss for each of `params`, from `trace`'s values and d(loss)/d(output).

    Each parameter's gradient has that parameter's shape (a batch axis included), so params that no op
    uses get zeros.
    """
    grads: list[Any] = [None] * len(params)
    for i in range(len(program) - 1, -1, -1):
        op = program[i]
        grad_in, grad_param = op.backward(values[i], values[i + 1], grad, params, backend, need_input=i > 0)
        if op.param is not None:
            grads[op.param] = grad_param if grads[op.param] is None else grads[op.param] + grad_param
        grad = grad_in
    return [backend.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


def decay_masks(program: Sequence[Op], shapes: Sequence[tuple[int, ...]]) -> list[Any]:
    """Each parameter array's weight-decay mask (float64 0/1 of its shape), as the op that uses it says; an array
    no op uses has no gradient either, and is left alone (zeros)."""
    masks = [np.zeros(shape) for shape in shapes]
    for op in program:
        if op.param is not None:
            masks[op.param] = np.asarray(op.decays(tuple(shapes[op.param])), dtype=np.float64)
    return masks
