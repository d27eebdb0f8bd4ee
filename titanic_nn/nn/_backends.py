"""The backends a program runs on: numpy (float64, the sheet's numbers), torch (training) and Excel (formulas).

Ops and losses are written once against numpy's operators and the few primitives here; each backend gives
its own spelling of each primitive, and `elementwise` applies an activation in its own terms (the op's
`numpy`, `torch` or `excel`). Excel is a backend like the others: its values are `excel.Formula`s, so
`trace` and `backprop` over Formulas write a training sheet's formulas from the very code that computes
Python's numbers. torch is imported only by `torch_backend()`.
"""

from __future__ import annotations

from typing import Any

from .. import excel
from .._lazy import numpy as np

__all__ = ["Backend", "NumpyBackend", "TorchBackend", "ExcelBackend", "NUMPY", "MAGNITUDE", "torch_backend"]


class Backend:
    """A backend's `name` ("numpy", "torch" or "excel") and its spelling of the primitives ops and losses need."""

    name: str

    def elementwise(self, op: Any, x: Any) -> Any:
        """An activation applied to each value: the op's own numpy, torch or Excel text."""
        raise NotImplementedError

    def derivative(self, op: Any, x: Any, out: Any) -> Any:
        """An activation's derivative, its own code run on this backend's values."""
        return op.derivative(x, out)

    def broadcast_to(self, v: Any, shape: tuple[Any, ...]) -> Any:
        raise NotImplementedError

    def zeros_like(self, v: Any) -> Any:
        raise NotImplementedError

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def clip(self, v: Any, low: float, high: float) -> Any:
        raise NotImplementedError

    def log(self, v: Any) -> Any:
        raise NotImplementedError

    def softplus(self, v: Any) -> Any:
        """log(1 + exp(v)), exactly (torch's own softplus switches to v above a threshold)."""
        raise NotImplementedError

    def exp(self, v: Any) -> Any:
        raise NotImplementedError

    def softmax(self, v: Any) -> Any:
        """exp(v) / sum(exp(v)) over the last axis (units), the row's maximum subtracted first."""
        raise NotImplementedError

    def sum_squares(self, r: Any) -> Any:
        """The sum of squares over the last axis (the rows)."""
        raise NotImplementedError

    def subtract_in_place(self, a: Any, b: Any) -> Any:
        """a - b, written into a where the backend can."""
        return a - b

    def mask_rows(self, d: Any) -> Any:
        """d on the rows that train: Python is given only those rows, so it is d itself."""
        return d

    # -- an embedded column (nn.Embed): its level's number off the front, its table row after the other inputs ----

    def embed(self, x: Any, table: Any) -> Any:
        """x without its first unit (a level's number, 1-based), followed by that row of `table` (rows, k)."""
        raise NotImplementedError

    def unembed(self, grad: Any) -> Any:
        """The gradient of the inputs `embed` read, from that of the inputs it kept: none for the level's number."""
        raise NotImplementedError

    def embed_grad(self, x: Any, grad: Any, table: Any) -> Any:
        """The gradient of `table`: each data row's gradient of its k values added into the row it looked up."""
        raise NotImplementedError


def _levels(x: Any) -> Any:
    """The 0-based table rows of x's first unit (the same for every start of a batch: it is the data's)."""
    codes = x[..., 0]
    while codes.ndim > 1:
        codes = codes[0]
    return codes


class NumpyBackend(Backend):
    name = "numpy"

    def elementwise(self, op: Any, x: Any) -> Any:
        return op.numpy(x)

    def broadcast_to(self, v: Any, shape: tuple[Any, ...]) -> Any:
        return np.broadcast_to(v, shape)

    def zeros_like(self, v: Any) -> Any:
        return np.zeros_like(v)

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        return np.where(condition, a, b)

    def clip(self, v: Any, low: float, high: float) -> Any:
        return np.clip(v, low, high)

    def log(self, v: Any) -> Any:
        return np.log(v)

    def softplus(self, v: Any) -> Any:
        return np.logaddexp(0.0, v)

    def exp(self, v: Any) -> Any:
        return np.exp(v)

    def softmax(self, v: Any) -> Any:
        e = np.exp(v - v.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    def sum_squares(self, r: Any) -> Any:
        return (r * r).sum(-1)

    def subtract_in_place(self, a: Any, b: Any) -> Any:
        return np.subtract(a, b, out=a)

    def embed(self, x: Any, table: Any) -> Any:
        rows = _levels(x).astype(np.intp) - 1
        looked = table[..., rows, :]
        rest = x[..., 1:]
        batch = np.broadcast_shapes(rest.shape[:-1], looked.shape[:-1])
        return np.concatenate(
            [np.broadcast_to(rest, batch + rest.shape[-1:]), np.broadcast_to(looked, batch + looked.shape[-1:])], axis=-1
        )

    def unembed(self, grad: Any) -> Any:
        return np.concatenate([np.zeros(grad.shape[:-1] + (1,)), grad], axis=-1)

    def embed_grad(self, x: Any, grad: Any, table: Any) -> Any:
        rows = _levels(x).astype(np.intp) - 1
        out = np.zeros(np.broadcast_shapes(table.shape, grad.shape[:-2] + table.shape[-2:]))
        flat, flat_grad = out.reshape((-1,) + out.shape[-2:]), np.broadcast_to(grad, out.shape[:-2] + grad.shape[-2:])
        flat_grad = flat_grad.reshape((-1,) + grad.shape[-2:])
        for b in range(flat.shape[0]):
            np.add.at(flat[b], rows, flat_grad[b])
        return out


NUMPY = NumpyBackend()


class MagnitudeBackend(NumpyBackend):
    """The size of the terms behind each value, for the tolerance a recomputation is held to: a program run on |X|
    and |params| sums |x||w| where Python sums x w, and an activation passes its input's size on unchanged (its
    slope is at most 1: ReLU, tanh, the sigmoid), so a rounding error of the sum reaches the output no larger.
    Two nearly equal terms that cancel leave a small value but a large magnitude, and an engine that sums them in
    another order differs by about the magnitude times 1e-16."""

    name = "magnitude"

    def elementwise(self, op: Any, x: Any) -> Any:
        return x

    def softmax(self, v: Any) -> Any:
        return np.ones_like(v)  # each probability is at most 1, and its rounding error relative to 1


MAGNITUDE = MagnitudeBackend()


class TorchBackend(Backend):
    name = "torch"

    def __init__(self, torch: Any) -> None:
        self.torch = torch

    def elementwise(self, op: Any, x: Any) -> Any:
        return op.torch(x)

    def derivative(self, op: Any, x: Any, out: Any) -> Any:
        # torch makes a Python number times a boolean tensor (0.99 * (x > 0)) its default dtype, float32; numpy
        # makes it float64: under x's dtype as the default, a derivative written once keeps x's precision in both
        previous = self.torch.get_default_dtype()
        self.torch.set_default_dtype(x.dtype)
        try:
            return op.derivative(x, out)
        finally:
            self.torch.set_default_dtype(previous)

    def broadcast_to(self, v: Any, shape: tuple[Any, ...]) -> Any:
        return v.expand(shape)

    def zeros_like(self, v: Any) -> Any:
        return self.torch.zeros_like(v)

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        return self.torch.where(condition, a, b)

    def clip(self, v: Any, low: float, high: float) -> Any:
        return v.clamp(low, high)

    def log(self, v: Any) -> Any:
        return self.torch.log(v)

    def softplus(self, v: Any) -> Any:
        return self.torch.logaddexp(v, self.torch.zeros((), dtype=v.dtype, device=v.device))

    def exp(self, v: Any) -> Any:
        return self.torch.exp(v)

    def softmax(self, v: Any) -> Any:
        return v.softmax(-1)

    def sum_squares(self, r: Any) -> Any:
        if r.dim() != 2:
            return (r * r).sum(-1)
        # one batched dot product per start: faster on a CPU than squaring and summing
        return self.torch.bmm(r.unsqueeze(1), r.unsqueeze(2)).view(r.shape[0])

    def subtract_in_place(self, a: Any, b: Any) -> Any:
        return a.sub_(b)

    def embed(self, x: Any, table: Any) -> Any:
        rows = _levels(x).long() - 1
        looked = table.index_select(-2, rows)
        rest = x[..., 1:]
        batch = self.torch.broadcast_shapes(rest.shape[:-1], looked.shape[:-1])
        return self.torch.cat([rest.expand(*batch, rest.shape[-1]), looked.expand(*batch, looked.shape[-1])], dim=-1)

    def unembed(self, grad: Any) -> Any:
        return self.torch.cat([grad.new_zeros(grad.shape[:-1] + (1,)), grad], dim=-1)

    def embed_grad(self, x: Any, grad: Any, table: Any) -> Any:
        rows = _levels(x).long() - 1
        shape = self.torch.broadcast_shapes(table.shape, grad.shape[:-2] + table.shape[-2:])
        return grad.new_zeros(shape).index_add_(-2, rows, grad.expand(*shape[:-2], *grad.shape[-2:]))


def torch_backend() -> TorchBackend:
    """The same primitives in torch (imported only when training)."""
    from .._optional import import_torch

    return TorchBackend(import_torch())


class ExcelBackend(Backend):
    """Formulas: whole blocks of rows as array expressions (a training sheet), or one row's cells (a model sheet's).

    `ones_row` is a row of ones, one per data row (a sum over the rows of a block is a product with it), `ones_col`
    the same as a column (None: the row transposed), and `weights` a 0/1 column keeping the rows that train (None: all
    of them): what the data rows need.
    """

    name = "excel"

    def __init__(self, *, ones_row: str | None = None, weights: str | None = None, ones_col: str | None = None) -> None:
        self.ones_row = ones_row
        self.weights = weights
        self.ones_col = ones_col if ones_col is not None or ones_row is None else excel.TRANSPOSE(ones_row)

    def formula(self, text: str, shape: tuple[Any, ...] = ()) -> excel.Formula:
        """A value of this backend: the expression `text` standing for an array of `shape`."""
        return excel.Formula(text, shape, self)

    def elementwise(self, op: Any, x: Any) -> Any:
        return x._like(excel.atom(op.excel(excel.atom(x.text))))

    def broadcast_to(self, v: Any, shape: tuple[Any, ...]) -> Any:
        units = shape[-1]
        if v.shape[-1] == units:
            return v._like(v.text, shape)
        return v._like(excel.MMULT(v.text, excel.ones(units, row=True)), shape)  # a column repeated per unit

    def zeros_like(self, v: Any) -> Any:
        return v._like(f"(0*{excel.atom(v.text)})")

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        shape = condition.shape if isinstance(condition, excel.Formula) else a.shape
        return self.formula(excel.IF(*(excel.strip_outer(excel.Formula._literal(v)) for v in (condition, a, b))), shape)

    def clip(self, v: Any, low: float, high: float) -> Any:
        return self.where(v < low, low, self.where(v > high, high, v))

    def log(self, v: Any) -> Any:
        return v._like(excel.LN(excel.strip_outer(v.text)))

    def softplus(self, v: Any) -> Any:
        return v._like(excel.LN(f"1+{excel.EXP(excel.strip_outer(v.text))}"))

    def exp(self, v: Any) -> Any:
        return v._like(excel.EXP(excel.strip_outer(v.text)))

    def softmax(self, v: Any) -> Any:
        raise NotImplementedError("a training sheet computes a softmax only under cross-entropy, on the logits")

    def sum_rows(self, v: Any, axis: int) -> Any:
        """The sum over the data rows: a number per unit (axis -2 of a block), or one number (a column's)."""
        if v.ndim == 2 and axis in (-2, 0):
            return v._like(excel.MMULT(self.ones_row, v.text), v.shape[-1:])
        kept = v if self.weights is None else v._like(f"{self.weights}*{excel.atom(v.text)}")
        return v._like(excel.SUMPRODUCT(excel.strip_outer(kept.text)), ())

    def sum_squares(self, r: Any) -> Any:
        return self.sum_rows(r ** 2, -1)

    def mask_rows(self, d: Any) -> Any:
        return d if self.weights is None else d._like(f"({self.weights}*{excel.atom(d.text)})")

    # An embedded column on a whole block of rows. Excel-family engines have no lookup of a block of rows in a table
    # that all of them compute alike, nor a horizontal concatenation (no HSTACK in Gnumeric or HyperFormula), nor do
    # they all broadcast a column against a row (HyperFormula): so a lookup is a product with a one-hot block, and the
    # columns are picked and placed by products with constant 0/1 selections (excel.selection), every one exact.
    # An embedded block remembers where its units come from (`_Lookups`): the next Embed reads its level numbers from
    # the input block's own column, and the whole block is written once from the inputs, not nested per column, so a
    # formula that repeats it (each layer's does) stays within Excel's length.

    def one_hot(self, codes: str, levels: int) -> str:
        """(rows, levels): 1 where the row's level number (the column `codes`) is the column's, else 0; each side of
        the comparison is made a full block by a product with ones, so no engine has to broadcast."""
        by_level = excel.MMULT(codes, excel.ones(levels, row=True))
        numbers = excel.MMULT(self.ones_col, excel.array_constant([range(1, levels + 1)]))
        return f"(({by_level}={numbers})*1)"

    def embed(self, x: Any, table: Any) -> Any:
        source = _Lookups.of(x)
        levels, width = table.shape
        lookups = source.lookups + [(self.one_hot(source.column(0), levels), table.text, width)]
        return _Lookups(source.inputs, source.kept[1:], lookups).formula(x)

    def unembed(self, grad: Any) -> Any:
        units = grad.shape[-1]
        return grad._like(excel.MMULT(grad.text, excel.selection(units, range(units), units + 1, at=1)), (grad.shape[0], units + 1))

    def embed_grad(self, x: Any, grad: Any, table: Any) -> Any:
        # the rows' gradients summed per level: the one-hot block's transpose times them (rows that do not train are
        # zero in `grad` already, `mask_rows`)
        one_hot = self.one_hot(_Lookups.of(x).column(0), table.shape[0])
        return table._like(excel.MMULT(excel.TRANSPOSE(one_hot), grad.text), table.shape)


class _Lookups:
    """An embedded block as its sources: the columns `kept` of the `inputs` block (an expression, or an area whose
    columns are areas too), then each lookup's (one-hot block, table, width) in turn."""

    def __init__(self, inputs: Any, kept: list[int], lookups: list[tuple[str, str, int]]) -> None:
        self.inputs, self.kept, self.lookups = inputs, kept, lookups

    @staticmethod
    def of(x: Any) -> "_Lookups":
        """x's sources: an embedded block's own, or every column of a block as it is."""
        found = getattr(x, "lookups", None)
        return found if found is not None else _Lookups(x, list(range(x.shape[-1])), [])

    def column(self, unit: int) -> str:
        """Unit `unit` of the block (one of the inputs kept) as a column: an area where the inputs are one."""
        n_in, column = self.inputs.shape[-1], self.kept[unit]
        area = excel.sub_columns(self.inputs.text, column, 1)
        return area if area is not None else excel.MMULT(self.inputs.text, excel.selection(n_in, [column], 1))

    def formula(self, like: Any) -> Any:
        """The block: the inputs kept, placed first, plus each lookup's values placed after them."""
        n_in, kept = self.inputs.shape[-1], self.kept
        width = len(kept) + sum(k for _, _, k in self.lookups)
        terms = []
        if kept:
            run = excel.sub_columns(self.inputs.text, kept[0], len(kept)) if kept == list(range(kept[0], kept[-1] + 1)) else None
            if run is not None:
                terms.append(excel.MMULT(run, excel.selection(len(kept), range(len(kept)), width)))
            else:
                terms.append(excel.MMULT(self.inputs.text, excel.selection(n_in, kept, width)))
        at = len(kept)
        for one_hot, table, k in self.lookups:
            looked = excel.MMULT(one_hot, table)  # each row's table row: 1 times it plus zeros, exact
            terms.append(looked if k == width else excel.MMULT(looked, excel.selection(k, range(k), width, at=at)))
            at += k
        value = like._like(terms[0] if len(terms) == 1 else f"({'+'.join(terms)})", (like.shape[0], width))
        value.lookups = self
        return value
