"""What both trainers share: the loss and its hand-derived gradient, the result, the device, divergence.

The loss of a batch of starts is computed by one of three kernels, all giving the same numbers:

- "gram": Linear with raw output and mean squared error. The loss is a quadratic form, so X^T X and
  X^T y are computed once (in float64) and an epoch costs O(n_features^2) whatever the row count:
  loss = (w.G.w - 2 w.b + y.y) / N and grad = 2/N (G w - b).
- "single": one weight matrix (Linear, TwoReLU, MatMulNet(hidden=h)) in torch. X is stored transposed
  (features, rows), which makes the skinny matrix products several times faster on a CPU; the
  starts' matrices are stacked so one product serves them all; forward and backward share
  preallocated buffers: Z = W^T X^T, relu in place, the row sums, the residual, the relu mask times
  the residual in place, then grad = G X.
- "program": any model, by running each op's `backward` (ops.py) in reverse over the forward trace.

`autograd_loss_and_grad` is the plain torch-autograd computation they are tested against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .errors import DataError, TitanicNNError
from .metrics import LOSSES
from .models import Linear, Model
from .ops import NUMPY, backprop, torch_backend, trace

__all__ = [
    "FitResult",
    "Objective",
    "autograd_loss_and_grad",
    "check_data",
    "resolve_device",
    "resolve_dtype",
    "final_loss",
    "start_seed",
    "DIVERGENCE_FACTOR",
]

# Training diverged when the kept start ends above this many times the loss it started from.
DIVERGENCE_FACTOR = 10.0


@dataclass
class FitResult:
    """What a trainer returns: the best start's float64 `params` and their float64 `loss`, and a record.

    `start_losses` holds every start's final loss (the kept one is `best_start`); `history` the kept
    start's loss per epoch ("train", and "valid" when validation rows were given) for gradient
    descent; `iterations`, `nfev`, `converged` and `message` the solver's report for the kept start.
    """

    params: Any
    loss: float
    method: str
    settings: dict[str, Any]
    start_losses: list[float]
    best_start: int
    seconds: float
    device: str = "cpu"
    history: dict[str, list[float]] = field(default_factory=dict)
    valid_loss: float | None = None
    iterations: int | None = None
    nfev: int | None = None
    converged: bool | None = None
    message: str = ""

    def record(self) -> dict[str, Any]:
        """Everything but the parameters, as plain JSON-able values."""
        record: dict[str, Any] = {
            "method": self.method,
            "settings": _plain(self.settings),
            "loss": float(self.loss),
            "start_losses": [float(v) for v in self.start_losses],
            "best_start": int(self.best_start),
            "seconds": float(self.seconds),
            "device": self.device,
        }
        if self.history:
            record["history"] = {k: [float(v) for v in vs] for k, vs in self.history.items()}
        if self.valid_loss is not None:
            record["valid_loss"] = float(self.valid_loss)
        for name in ("iterations", "nfev", "converged"):
            value = getattr(self, name)
            if value is not None:
                record[name] = value
        if self.message:
            record["message"] = self.message
        return record


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def start_seed(seed: int, start: int) -> int:
    """The seed of random start `start` (0, 1, ...) of a run seeded `seed`.

    Drawn from numpy's SeedSequence of (seed, start), so runs with nearby seeds share no starts.
    """
    return int(np.random.SeedSequence([int(seed), int(start)]).generate_state(1)[0])


# -- inputs -------------------------------------------------------------------------------------------


def check_data(X: Any, y: Any, *, source: str = "training data") -> tuple[np.ndarray, np.ndarray]:
    """X as a float64 (rows, features) array and y as float64 (rows,), or a DataError saying what is wrong."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if X.ndim != 2:
        raise DataError(f"{source}: X must be a 2-D (rows, features) array, got shape {X.shape}")
    if len(X) == 0:
        raise DataError(f"{source}: X has no rows")
    if len(y) != len(X):
        raise DataError(f"{source}: X has {len(X)} rows but y has {len(y)} values; give one target per row")
    if not np.isfinite(X).all():
        raise DataError(f"{source}: X holds NaN or infinite values; fill or drop them (e.g. Features(missing='mode'))")
    if not np.isfinite(y).all():
        raise DataError(f"{source}: y holds NaN or infinite values; every row needs a 0 or 1 target")
    return X, y


def resolve_device(device: str | None = "auto") -> Any:
    """"auto": CUDA, then Apple MPS, then the CPU; "cpu", "cuda", "cuda:1" or "mps" force one."""
    import torch

    name = "auto" if device is None else str(device)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise TitanicNNError(f"unknown device {name!r}; use 'auto', 'cpu', 'cuda' or 'mps'") from exc
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise TitanicNNError(f"device={name!r} but torch finds no CUDA GPU here; use device='cpu' or 'auto'")
    if chosen.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise TitanicNNError(f"device={name!r} but Apple MPS is not available here; use device='cpu' or 'auto'")
    if chosen.type not in ("cpu", "cuda", "mps"):
        raise TitanicNNError(f"device {name!r} is not supported; use 'auto', 'cpu', 'cuda' or 'mps'")
    return chosen


def resolve_dtype(dtype: Any, device: Any) -> Any:
    import torch

    names = {"float32": torch.float32, "float64": torch.float64}
    chosen = names.get(dtype, dtype) if isinstance(dtype, str) else dtype
    if chosen not in (torch.float32, torch.float64):
        raise TitanicNNError(f"dtype must be 'float32' or 'float64', not {dtype!r}")
    if chosen == torch.float64 and device.type == "mps":
        raise TitanicNNError("Apple MPS has no float64; use dtype='float32' or device='cpu'")
    return chosen


# -- the loss and its gradient --------------------------------------------------------------------------


def final_loss(model: Model, X: np.ndarray, y: np.ndarray, params: Any) -> float:
    """The loss of public parameters in float64 numpy, as the metrics (and the workbook) compute it."""
    return LOSSES[model.loss_name](model.predict(X, params), y)


def _single_matrix(model: Model) -> bool:
    return isinstance(model, Linear) or bool(getattr(model, "single_matrix", False))


class Objective:
    """A model's mean training loss on (X, y) for a batch of starts, and its gradient.

    `arrays` are the model's program arrays with a leading batch axis (one entry per start);
    `loss_and_grad(arrays)` returns (losses of shape (starts,), gradients shaped like `arrays`).
    `backend` is "numpy" (float64) or "torch" (on `device` in `dtype`); `gradient="autograd"` uses
    the torch-autograd reference instead of the hand-derived kernels.
    """

    def __init__(
        self,
        model: Model,
        X: np.ndarray,
        y: np.ndarray,
        *,
        backend: str = "numpy",
        device: Any = None,
        dtype: Any = None,
        gradient: str = "fast",
    ) -> None:
        if backend not in ("numpy", "torch"):
            raise TitanicNNError(f"backend must be 'numpy' or 'torch', not {backend!r}")
        if gradient not in ("fast", "autograd"):
            raise TitanicNNError(f"gradient must be 'fast' or 'autograd', not {gradient!r}")
        if gradient == "autograd" and backend != "torch":
            raise TitanicNNError("gradient='autograd' needs backend='torch'")
        self.model = model
        self.backend_name = backend
        self.gradient = gradient
        self.n_rows = len(y)
        self.hidden = model.hidden_program()
        self.sigmoid = model.output == "sigmoid"
        self.loss_name = model.loss_name
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if gradient == "autograd":
            self.kernel = "autograd"
        elif isinstance(model, Linear) and not self.sigmoid:
            self.kernel = "gram"
        elif backend == "torch" and _single_matrix(model):
            self.kernel = "single"
        else:
            self.kernel = "program"
        if backend == "numpy":
            self.ops = NUMPY
            convert = lambda a: a  # noqa: E731
        else:
            import torch

            self.ops = torch_backend()
            self.device = device if device is not None else torch.device("cpu")
            self.dtype = dtype if dtype is not None else torch.float64
            convert = lambda a: torch.tensor(a, dtype=self.dtype, device=self.device)  # noqa: E731
        if self.kernel == "gram":
            # summed in float64 from X once, then cast to the training dtype
            self.G, self.b, self.c = convert(X.T @ X), convert(X.T @ y), float(y @ y)
        elif self.kernel == "single":
            import torch

            # features by rows: the layout in which torch's skinny matrix products run fastest
            numpy_dtype = np.float32 if self.dtype == torch.float32 else np.float64
            self.XT = torch.from_numpy(np.ascontiguousarray(X.T, dtype=numpy_dtype)).to(self.device)
            self.y = convert(y)
            self.relu = not isinstance(model, Linear)
            self._buffers: dict[int, tuple[Any, Any]] = {}
        else:
            self.X, self.y = convert(X), convert(y)

    # -- the public calls -------------------------------------------------------------------------

    def loss(self, arrays: Sequence[Any]) -> Any:
        """The losses of each start, shape (starts,)."""
        return self._compute(arrays, need_grad=False)[0]

    def loss_and_grad(self, arrays: Sequence[Any]) -> tuple[Any, list[Any]]:
        return self._compute(arrays, need_grad=True)

    def _compute(self, arrays: Sequence[Any], need_grad: bool) -> tuple[Any, list[Any] | None]:
        if self.kernel == "gram":
            return self._gram(arrays, need_grad)
        if self.kernel == "single":
            return self._single(arrays, need_grad)
        if self.kernel == "autograd":
            if not need_grad:
                return _reference_loss(self.model, self.X, self.y, arrays), None
            return autograd_loss_and_grad(self.model, self.X, self.y, arrays)
        return self._program(arrays, need_grad)

    # -- the kernels ------------------------------------------------------------------------------

    def _gram(self, arrays: Sequence[Any], need_grad: bool) -> tuple[Any, list[Any] | None]:
        w = arrays[0][..., 0]  # (starts, n)
        Gw = w @ self.G  # G is symmetric
        loss = ((w * Gw).sum(-1) - 2.0 * (w @ self.b) + self.c) / self.n_rows
        if not need_grad:
            return loss, None
        return loss, [((2.0 / self.n_rows) * (Gw - self.b))[..., None]]

    def _output_loss(self, s: Any, y: Any) -> tuple[Any, Any, float]:
        """From the last hidden value s (starts, rows): the losses and d(loss)/ds = scale * d.

        May overwrite s.
        """
        ops, n = self.ops, self.n_rows
        if not self.sigmoid:
            r = s - y
            return (r * r).sum(-1) / n, r, 2.0 / n
        p = ops.sigmoid(s)
        if self.loss_name == "logloss":
            # -y log p - (1-y) log(1-p), written on the logits so it never takes log(0)
            return (ops.softplus(s) - y * s).sum(-1) / n, p - y, 1.0 / n
        r = p - y
        return (r * r).sum(-1) / n, r * p * (1.0 - p), 2.0 / n

    def _program(self, arrays: Sequence[Any], need_grad: bool) -> tuple[Any, list[Any] | None]:
        values = trace(self.hidden, self.X, arrays, self.ops)
        loss, d, scale = self._output_loss(values[-1], self.y)
        if not need_grad:
            return loss, None
        return loss, backprop(self.hidden, values, arrays, d * scale, self.ops)

    def _single(self, arrays: Sequence[Any], need_grad: bool) -> tuple[Any, list[Any] | None]:
        import torch

        W = arrays[0]  # (starts, n, h)
        starts, n_features, h = W.shape
        rows = self.n_rows
        if starts not in self._buffers:
            self._buffers = {starts: (torch.empty((starts * h, rows), dtype=self.dtype, device=self.device),
                                      torch.empty((starts, rows), dtype=self.dtype, device=self.device))}
        Z, S = self._buffers[starts]
        torch.mm(W.transpose(1, 2).reshape(starts * h, n_features), self.XT, out=Z)
        if self.relu:
            Z.clamp_(min=0)
        if self.relu or h > 1:
            torch.sum(Z.view(starts, h, rows), 1, out=S)
        else:
            S = Z.view(starts, rows)
        if not self.sigmoid:
            r = S.sub_(self.y)  # the residual, in place
            loss = torch.bmm(r.unsqueeze(1), r.unsqueeze(2)).view(starts) / rows
            d, scale = r, 2.0 / rows
        else:
            loss, d, scale = self._output_loss(S, self.y)
        if not need_grad:
            return loss, None
        if self.relu:
            # relu'(z) is 1 where the relu's output is positive: sign() of it, then times d, in place
            G = Z.sign_()
            G.view(starts, h, rows).mul_(d.unsqueeze(1))
        else:
            G = d.reshape(starts * h, rows)
        gradT = torch.mm(G, self.XT.T).mul_(scale)
        return loss, [gradT.view(starts, h, n_features).transpose(1, 2)]


def _reference_loss(model: Model, X: Any, y: Any, arrays: Sequence[Any]) -> Any:
    """The lesson's way: predictions from the whole program, then the loss on them."""
    import torch

    pred = model.forward(X, arrays, torch_backend())
    if model.loss_name == "logloss":
        return -(y * torch.log(pred) + (1.0 - y) * torch.log1p(-pred)).mean(-1)
    return ((pred - y) ** 2).mean(-1)


def autograd_loss_and_grad(model: Model, X: Any, y: Any, arrays: Sequence[Any]) -> tuple[Any, list[Any]]:
    """The reference: torch autograd through the model's program (torch tensors in, torch tensors out)."""
    import torch

    with torch.enable_grad():
        leaves = [a.detach().clone().requires_grad_(True) for a in arrays]
        loss = _reference_loss(model, X, y, leaves)
        loss.sum().backward()  # starts are independent, so the sum's gradient is each start's own
    return loss.detach(), [leaf.grad for leaf in leaves]


# -- divergence -------------------------------------------------------------------------------------------


def first_blowup(losses: Sequence[float], initial: float) -> int | None:
    """The first (0-based) position whose loss is above DIVERGENCE_FACTOR times `initial`, if any."""
    for i, value in enumerate(losses):
        if not math.isfinite(value) or value > DIVERGENCE_FACTOR * initial:
            return i
    return None
