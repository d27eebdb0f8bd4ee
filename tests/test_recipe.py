"""docs/vocabulary.md's recipe for a new activation, followed literally: its code block, run as it stands, gives an op
that trains under both trainers, writes its model and training sheets and verifies in both engines."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import titanic_nn as tn
from titanic_nn.nn import ACTIVATIONS

from gradients import assert_matches_autograd

torch = pytest.importorskip("torch")

DOCS = Path(__file__).resolve().parents[1] / "docs" / "vocabulary.md"


def recipe() -> str:
    """The one Python block of the "Adding an op" section, as a reader would copy it."""
    section = DOCS.read_text(encoding="utf-8").split("## Adding an op", 1)[1]
    (block,) = re.findall(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    return block


@pytest.fixture(scope="module")
def leaky():
    """The class the recipe defines, registered by the recipe itself while this module's tests run."""
    before = dict(ACTIVATIONS)
    module = types.ModuleType("recipe")  # as a user's own module holding the block would be
    sys.modules["recipe"] = module
    try:
        exec(compile(recipe(), str(DOCS), "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - the docs' own code
        assert set(ACTIVATIONS) - set(before) == {"leaky_relu"}
        yield module.LeakyReLU
    finally:
        del sys.modules["recipe"]
        ACTIVATIONS.clear()
        ACTIVATIONS.update(before)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("gradient", ["fast", "generic"])
def test_its_gradient_is_autograds(leaky, lesson_xy, backend, gradient):
    _, X, y = lesson_xy
    for model in (tn.MatMulNet(hidden=3, activation="leaky_relu"), tn.MatMulNet(layers=[3, 2], activation="leaky_relu")):
        assert_matches_autograd(model, X, y, backend=backend, gradient=gradient)


@pytest.fixture(scope="module")
def book(leaky, titanic, tmp_path_factory):
    train, test = titanic
    features = tn.Features()
    X, y = features.fit_transform(train)
    model = tn.MatMulNet(hidden=2, activation="leaky_relu")
    gd = tn.fit_gd(model, X, y, epochs=200, restarts=2, lr=0.05, device="cpu", progress=False)
    solver = tn.fit_solver(model, X, y, restarts=2, progress=False)
    fits = [tn.FittedModel(features, model, solver.params, "leaky"), tn.FittedModel(features, model, gd.params, "leakygd")]
    path = tn.write_workbook(tmp_path_factory.mktemp("leaky") / "leaky.xlsx", fits, train, test, training=30)
    return path, fits, X, y, gd, solver


def test_it_trains_under_both_trainers(book):
    _, fits, X, y, gd, solver = book
    model = fits[0].model
    for result in (gd, solver):
        assert result.loss == pytest.approx(tn.mse(model.predict(X, result.params), y), rel=1e-12)
        assert result.loss < 0.16  # well below the linear model's 0.144 ... 0.16 band of a poor start
    W = solver.params
    lin = X @ W
    np.testing.assert_allclose(model.predict(X, W), np.where(lin > 0, lin, 0.01 * lin).sum(1), rtol=1e-14)


def test_its_sheets_are_written_from_its_own_text(book):
    path, _, _, _, _, _ = book
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["leaky"]
    assert [c.value for c in sheet[3]][16:21] == ["Lin1", "Lin2", "Leaky1", "Leaky2", "Preds"]
    assert sheet["S4"].value == "=IF(Q4>0,Q4,0.01*Q4)"
    training = workbook["train_leaky"]
    gradients = [c.value.text for row in training.iter_rows() for c in row if hasattr(c.value, "text")]
    assert any("(0.01+(0.99*(MMULT(" in text for text in gradients)  # its derivative, run on formulas


@pytest.mark.engines
def test_it_verifies_in_both_engines_training_sheets_included(book):
    path, fits, _, _, _, _ = book
    report = tn.verify(path, engines="all")
    assert report.ok, str(report)
    for engine in report.engines:
        assert [t.sheet for t in engine.training] == ["train_leaky", "train_leakygd"]
        assert all(t.ok and t.cells_checked > 0 for t in engine.training)
    for got, written in zip(tn.read_workbook(path), fits):
        assert got.model == written.model and got.model.activation == "leaky_relu"
        np.testing.assert_array_equal(got.params, written.params)
