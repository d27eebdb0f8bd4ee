"""Rows per second per epoch of fit_gd against the lesson-style autograd loop, on synthetic data.

    python bench/gd_throughput.py [--rows 1000000] [--features 10] [--epochs 100] [--device cpu]

The baseline is the lesson's loop in float32: pred = model(X); loss = ((pred-y)**2).mean();
loss.backward(); with no_grad: w -= lr*w.grad; w.grad.zero_(). It is timed on tensors already on the
device; fit_gd is timed for the whole call (converting the float64 numpy input included), from one
start with plain gradient descent, so both do the same work per epoch. The ratio printed is
fit_gd's rows/s/epoch over the baseline's (the target is at least 2.5); a last line per model shows
what batching 8 starts into one tensor gives per start.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def synthetic(rows: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(rows, features))
    X[:, -1] = 1.0  # the constant column, as in the lesson
    y = (rng.uniform(size=rows) < 0.4).astype(np.float64)
    return X, y


def baseline_seconds(kind: str, X: np.ndarray, y: np.ndarray, epochs: int, lr: float, device: str) -> float:
    import torch

    Xt = torch.tensor(X, dtype=torch.float32, device=device)
    yt = torch.tensor(y, dtype=torch.float32, device=device)
    gen = torch.Generator().manual_seed(0)
    shape = (X.shape[1],) if kind == "linear" else (X.shape[1], 2)
    w = (torch.rand(shape, generator=gen) - 0.5).to(device).requires_grad_()

    def model(X):
        return X @ w if kind == "linear" else torch.relu(X @ w).sum(1)

    _sync(device)
    start = time.perf_counter()
    for _ in range(epochs):
        pred = model(Xt)
        loss = ((pred - yt) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
    _sync(device)
    return time.perf_counter() - start


def fit_gd_seconds(
    kind: str, X: np.ndarray, y: np.ndarray, epochs: int, lr: float, device: str, restarts: int = 1
) -> float:
    import titanic_nn as tn

    model = tn.Linear() if kind == "linear" else tn.MatMulNet(hidden=2)
    start = time.perf_counter()
    tn.fit_gd(model, X, y, lr=lr, epochs=epochs, restarts=restarts, optimizer="sgd", device=device, progress=False)
    _sync(device)
    return time.perf_counter() - start


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many timings of each")
    args = parser.parse_args()

    X, y = synthetic(args.rows, args.features)
    work = args.rows * args.epochs
    print(f"{args.rows} rows x {args.features} features, {args.epochs} epochs, device {args.device}")
    for kind in ("linear", "mmult"):
        # warm up both (thread pools, allocator), then take the best of a few interleaved runs
        baseline_seconds(kind, X[:1000], y[:1000], 2, args.lr, args.device)
        fit_gd_seconds(kind, X[:1000], y[:1000], 2, args.lr, args.device)
        base, fast = [], []
        for _ in range(args.repeats):
            base.append(baseline_seconds(kind, X, y, args.epochs, args.lr, args.device))
            fast.append(fit_gd_seconds(kind, X, y, args.epochs, args.lr, args.device))
        b, f = min(base), min(fast)
        print(
            f"{kind:7s} baseline {work / b:14,.0f} rows/s/epoch   fit_gd {work / f:14,.0f} rows/s/epoch   "
            f"ratio {b / f:6.2f}"
        )
        # several starts batched as one tensor share each pass over X
        many = fit_gd_seconds(kind, X, y, args.epochs, args.lr, args.device, restarts=8)
        print(f"{kind:7s} fit_gd with 8 starts batched: {8 * work / many:14,.0f} start-rows/s/epoch")


if __name__ == "__main__":
    main()
