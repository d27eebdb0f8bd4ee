"""The check every gradient test makes: a kernel's loss and gradient against torch autograd's, for a batch of starts."""

from __future__ import annotations

import numpy as np

from titanic_nn.training import Objective, autograd_loss_and_grad


def batch(model, n_features, seeds):
    """The program arrays of several starts, stacked on a leading axis."""
    starts = [model.arrays(model.init(n_features, seed=s)) for s in seeds]
    return [np.stack([s[i] for s in starts]) for i in range(len(starts[0]))]


def assert_matches_autograd(model, X, y, *, backend: str, gradient: str = "fast", seeds=(1, 2, 3)) -> None:
    import torch

    arrays = batch(model, X.shape[1], seeds)
    tensors = [torch.tensor(a) for a in arrays]
    ref_loss, ref_grads = autograd_loss_and_grad(model, torch.tensor(X), torch.tensor(y), tensors)
    objective = Objective(model, X, y, backend=backend, gradient=gradient)
    given = tensors if backend == "torch" else arrays
    loss, grads = objective.loss_and_grad(given)
    as_numpy = (lambda v: v.numpy()) if backend == "torch" else np.asarray
    np.testing.assert_allclose(as_numpy(loss), ref_loss.numpy(), rtol=1e-12, atol=1e-15)
    assert len(grads) == len(ref_grads)
    for got, ref in zip(grads, ref_grads):
        assert tuple(got.shape) == tuple(ref.shape)
        np.testing.assert_allclose(as_numpy(got), ref.numpy(), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(as_numpy(objective.loss(given)), ref_loss.numpy(), rtol=1e-12)
