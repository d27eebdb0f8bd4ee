"""The operations every model is written in: each op's numpy and torch evaluation, its derivative and its Excel text.

A model is a program: a tuple of these ops applied in turn to the inputs. Every value flowing through
has units on its last axis, so a leading batch axis (several random starts at once) passes through.
Each op's `backward` sits beside its `forward` (micrograd style): given the gradient of the loss with
respect to its output it returns the gradient with respect to its input and to the parameter it uses.

Each op also renders itself into a sheet (tinygrad's renderers, with Excel as the target language):
`names` gives the column labels of its output units and `render` writes its formulas through the
renderer's small interface (`SheetWriter` below), so the workbook walks a program without knowing
which ops exist. `excel_array` and `excel_array_backward` give the same forward and backward steps as
array expressions over a whole block of rows (a training sheet's gradient is one such formula). A new
activation is one `Activation` subclass here, registered with `@activation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Protocol, Sequence

from .. import excel
from .._lazy import numpy as np

__all__ = [
    "Op", "Activation", "MatMul", "AddBias", "SumUnits", "ReLU", "Tanh", "Sigmoid", "ACTIVATIONS", "activation",
    "SheetWriter", "evaluate", "trace", "backprop",
]

# Up to this many units are added with "+" (the lesson's ReLU1+ReLU2); beyond it SUM keeps formulas short.
PLUS_UNITS = 8


class SheetWriter(Protocol):
    """What an op's `render` may ask of the workbook's renderer (workbook/_render.py implements it).

    `style` is the renderer's choice for matrix products: "sumproduct" (one SUMPRODUCT per unit and
    row, the lesson's nnet sheet) or "mmult" (one MMULT array formula, the lesson's mmult sheet).
    """

    style: str
    names: list[str]  # the labels of the op's output units

    def units(self) -> list[str]:
        """The op's input units as something a formula can use: cell references, or formulas not yet placed."""

    def place(self) -> None:
        """Give each input unit not yet placed a column of its own."""

    def row_range(self) -> str:
        """The input units' cells in the current row, as one range (placing them first)."""

    def block_range(self) -> str:
        """The input units over every data row, as one range (placing them first)."""

    def param_block(self) -> str:
        """The op's parameter block, whole."""

    def param_unit(self, j: int) -> str:
        """What output unit j multiplies by (a row of weights) or adds (its bias cell)."""

    def pending(self, formulas: Sequence[str]) -> None:
        """The op's output units as per-row formulas, placed when a later op needs them in cells."""

    def array(self, formula: str) -> None:
        """The op's output as one array formula over all its units and rows."""


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

    # -- the sheet ----------------------------------------------------------------------------------

    def names(self, inputs: list[str], shapes: Sequence[tuple[int, ...]]) -> list[str]:
        """The column labels of the output units, from the input units' labels."""
        return list(inputs)

    def param_grid(self, style: str) -> str | None:
        """How the parameter is laid out on the sheet: "by_unit", "matrix" or "bias" (None: no parameter)."""
        return None

    def render(self, sheet: SheetWriter) -> None:
        raise NotImplementedError

    # -- the same step over a whole block of rows, as one array expression --------------------------

    def excel_array(self, x: str, param: str | None, units_in: int, rows: "ArrayRows") -> str:
        """The op's output for every row at once, from the array expression of its input (rows x units_in)
        and its parameter's (as the program indexes it: a matrix, or a bias row)."""
        raise NotImplementedError

    def excel_array_backward(
        self, x: str, out: str, grad: str, param: str | None, units_in: int, rows: "ArrayRows"
    ) -> tuple[str, str | None]:
        """(d loss / d input, d loss / d parameter) as array expressions, from d loss / d output."""
        raise NotImplementedError


class ArrayRows(Protocol):
    """What array expressions over the data rows may need from the sheet: a row of ones, one per data row."""

    ones_row: str


@dataclass(frozen=True)
class MatMul(Op):
    """values @ params[weight]: (rows, n_in) @ (n_in, n_out); the sheet's SUMPRODUCT per unit, or one MMULT.

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

    def param_grid(self, style: str) -> str:
        return "by_unit" if style == "sumproduct" else "matrix"

    def render(self, sheet: SheetWriter) -> None:
        if sheet.style == "mmult":
            sheet.array(excel.MMULT(sheet.block_range(), sheet.param_block()))
        else:
            row = sheet.row_range()
            sheet.pending([excel.SUMPRODUCT(row, sheet.param_unit(j)) for j in range(len(sheet.names))])

    def excel_array(self, x, param, units_in, rows):  # type: ignore[override]
        return excel.MMULT(x, param)

    def excel_array_backward(self, x, out, grad, param, units_in, rows):  # type: ignore[override]
        return excel.MMULT(grad, excel.TRANSPOSE(param)), excel.MMULT(excel.TRANSPOSE(x), grad)


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

    def param_grid(self, style: str) -> str:
        return "bias"

    def render(self, sheet: SheetWriter) -> None:
        sheet.pending([f"{x}+{sheet.param_unit(j)}" for j, x in enumerate(sheet.units())])

    def excel_array(self, x, param, units_in, rows):  # type: ignore[override]
        return f"({x}+{param})"  # a row of biases, added to every row

    def excel_array_backward(self, x, out, grad, param, units_in, rows):  # type: ignore[override]
        return grad, excel.MMULT(rows.ones_row, grad)  # each unit's gradient summed over the rows


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

    def render(self, sheet: SheetWriter) -> None:
        units = sheet.units()
        if len(units) == 1:  # the sum of one unit is the unit: no column of its own
            sheet.pending(units)
            return
        sheet.place()
        refs = sheet.units()
        total = "+".join(refs) if len(refs) <= PLUS_UNITS else excel.SUM(excel.area(refs[0], refs[-1]))
        sheet.pending([total])

    def excel_array(self, x, param, units_in, rows):  # type: ignore[override]
        return x if units_in == 1 else excel.MMULT(x, excel.ones(units_in))

    def excel_array_backward(self, x, out, grad, param, units_in, rows):  # type: ignore[override]
        # the sum's gradient, the same for each unit
        return (grad if units_in == 1 else excel.MMULT(grad, excel.ones(units_in, row=True))), None


class Activation(Op):
    """An op applied to each value on its own: its evaluation, derivative and Excel text are all it needs.

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
        """d out / d x, elementwise, from the input and the output (either backend)."""
        raise NotImplementedError

    def excel(self, x: str) -> str:
        """The formula of one output value from its input value's reference (or an array expression)."""
        raise NotImplementedError

    def excel_derivative(self, x: str, out: str) -> str:
        """d out / d x, elementwise, as an expression of the input and the output (either may be an array)."""
        raise NotImplementedError

    def forward(self, x: Any, params: Sequence[Any], backend: Any) -> Any:
        return self.numpy(x) if backend.name == "numpy" else self.torch(x)

    def backward(
        self, x: Any, out: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        return grad * self.derivative(x, out), None

    def names(self, inputs: list[str], shapes: Sequence[tuple[int, ...]]) -> list[str]:
        return [name.replace("Lin", self.label) if "Lin" in name else f"{self.label}({name})" for name in inputs]

    def render(self, sheet: SheetWriter) -> None:
        sheet.place()
        sheet.pending([self.excel(x) for x in sheet.units()])

    def excel_array(self, x, param, units_in, rows):  # type: ignore[override]
        return excel.atom(self.excel(excel.atom(x)))

    def excel_array_backward(self, x, out, grad, param, units_in, rows):  # type: ignore[override]
        return f"({excel.atom(grad)}*{excel.atom(self.excel_derivative(excel.atom(x), excel.atom(out)))})", None


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
        return out > 0  # 0 at exactly 0, as torch's relu does

    def excel(self, x: str) -> str:
        return excel.IF(f"{x}<0", 0, x)

    def excel_derivative(self, x: str, out: str) -> str:
        return f"({x}>0)"  # as out > 0, written on the (shorter) input


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
        return 1.0 - out * out

    def excel(self, x: str) -> str:
        return excel.TANH(x)

    def excel_derivative(self, x: str, out: str) -> str:
        return f"(1-{out}^2)"


@dataclass(frozen=True)
class Sigmoid(Activation):
    """1/(1+exp(-x)), written so in the sheet; the sigmoid output of any model."""

    label: ClassVar[str] = "Sigmoid"
    nonnegative: ClassVar[bool] = True

    def numpy(self, x: Any) -> Any:
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-x))

    def torch(self, x: Any) -> Any:
        return x.sigmoid()

    def derivative(self, x: Any, out: Any) -> Any:
        return out * (1.0 - out)

    def excel(self, x: str) -> str:
        return f"1/(1+{excel.EXP('-' + x)})"

    def excel_derivative(self, x: str, out: str) -> str:
        return f"({out}*(1-{out}))"


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
