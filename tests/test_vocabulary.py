"""One vocabulary: every model, output and loss of the registry against torch autograd, a new op defined here,
tanh end to end, and the feature program against a plain pandas computation of the lesson's rules."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import openpyxl
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn import excel
from titanic_nn.engines import compare, recalculate
from titanic_nn.nn import ACTIVATIONS, LOSSES, MODELS, OUTPUTS, Activation, MatMul, SumUnits, build_model
from titanic_nn.training import Objective
from titanic_nn.workbook import read_contents

from gradients import assert_matches_autograd

torch = pytest.importorskip("torch")


# -- a new op, defined here and nowhere in the package; registered while this module's tests run, so the
# registry's cases below include it ---------------------------------------------------------------------


@dataclass(frozen=True)
class Softsign(Activation):
    """x / (1 + |x|): its evaluation in numpy and torch, its derivative and its Excel text are all it takes."""

    label: ClassVar[str] = "Soft"

    def numpy(self, x):
        return x / (1.0 + np.abs(x))

    def torch(self, x):
        return x / (1.0 + x.abs())

    def derivative(self, x, out):
        return (1.0 - abs(out)) ** 2

    def excel(self, x):
        return f"{x}/(1+{excel.IF(f'{x}<0', '-' + x, x)})"


@pytest.fixture(scope="module", autouse=True)
def softsign_registered():
    """The test's own op, registered while this module's tests run (as a user's own op would be)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(ACTIVATIONS, "softsign", Softsign)
        yield


# -- the cases, from the registries -------------------------------------------------------------------


def _variants(cls: type) -> list[dict[str, Any]]:
    """Settings of a model class beyond output and loss: each activation, head and depth it takes."""
    accepted = inspect.signature(cls).parameters
    variants: list[dict[str, Any]] = [{}]
    if "activation" in accepted:
        variants = [v | {"activation": a} for v in variants for a in ACTIVATIONS]
    if "head" in accepted:
        variants = [v | {"head": h} for v in variants for h in cls.HEADS]
    if "layers" in accepted:
        variants = [v | {"layers": layers} for v in variants for layers in (None, [3, 2])]
    return variants


def registry_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for kind, cls in MODELS.items():
        for variant in _variants(cls):
            for output in OUTPUTS:
                for loss in LOSSES:
                    if loss == "logloss" and output != "sigmoid":
                        continue  # refused: log loss is defined on probabilities
                    if (loss == "crossentropy") != (output == "softmax"):
                        continue  # refused: cross-entropy is the loss of a softmax, and a softmax's only one
                    for outputs in OUTPUT_UNITS[output]:
                        settings = variant | {"output": output, "loss": loss} | ({"outputs": outputs} if outputs > 1 else {})
                        if _refused(kind, settings):
                            continue  # a sum of ReLUs under a sigmoid (test_models checks the refusal)
                        cases.append((kind, settings))
    return cases


# The output units each output is tested with: one, and three (several classes under a softmax, several labels under
# sigmoids); their targets are `targets_for`'s.
OUTPUT_UNITS = {"raw": (1,), "sigmoid": (1, 3), "softmax": (3,)}


def targets_for(model: Any, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The lesson's target y as `model` predicts it: itself for one output; for three, classes one-hot (y, plus 1
    where the first feature is above its median) or three labels (y, that test, and 1 - y)."""
    if model.outputs == 1:
        return y
    above = (X[:, 0] > np.median(X[:, 0])).astype(float)
    if model.output == "softmax":
        return np.eye(3)[(y + above).astype(int)]
    return np.column_stack([y, above, 1.0 - y])


def _refused(kind: str, settings: dict[str, Any]) -> bool:
    try:
        build_model(kind, **settings)
    except tn.TitanicNNError as exc:
        # a sum of ReLUs under a sigmoid, or a sum head for several outputs (test_models checks both refusals)
        assert "is never negative, so its sigmoid never falls below 0.5" in str(exc) or "outputs need head='linear'" in str(exc), exc
        return True
    return False


ACTIVATIONS["softsign"] = Softsign
try:
    CASES = registry_cases()
finally:
    del ACTIVATIONS["softsign"]


def test_the_cases_cover_every_kind_output_loss_and_activation():
    assert {kind for kind, _ in CASES} == set(MODELS)
    assert {s["output"] for _, s in CASES} == set(OUTPUTS) and {s["loss"] for _, s in CASES} == set(LOSSES)
    assert {s.get("activation") for _, s in CASES} >= set(ACTIVATIONS) >= {"relu", "tanh", "softsign"}


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("gradient", ["fast", "generic"])
@pytest.mark.parametrize("kind, settings", CASES, ids=[f"{k}-{'-'.join(map(str, s.values()))}" for k, s in CASES])
def test_fast_and_generic_gradients_equal_autograd(kind, settings, gradient, backend, lesson_xy):
    _, X, y = lesson_xy
    model = build_model(kind, **settings)
    assert_matches_autograd(model, X, targets_for(model, X, y), backend=backend, gradient=gradient)


# -- the kernel follows the program --------------------------------------------------------------------


def test_the_kernel_is_chosen_by_the_program_not_the_class(lesson_xy):
    _, X, y = lesson_xy

    def kernel(model, backend="torch"):
        return Objective(model, X, y, backend=backend).kernel

    assert kernel(tn.Linear()) == kernel(tn.Linear(), "numpy") == "gram"
    assert kernel(tn.Linear(output="sigmoid")) == "fused"  # one matrix, a sum, then a sigmoid
    assert kernel(tn.TwoReLU()) == kernel(tn.MatMulNet(hidden=5)) == "fused"
    # the same class with another activation is another program: the generic kernel
    assert kernel(tn.MatMulNet(hidden=5, activation="tanh")) == "generic"
    assert kernel(tn.MatMulNet(hidden=1, head="linear")) == "generic"
    assert kernel(tn.TwoReLU(), "numpy") == "generic"


@pytest.fixture(scope="module")
def softsign_fits(lesson_xy):
    _, X, y = lesson_xy
    model = tn.MatMulNet(hidden=3, activation="softsign")
    gd = tn.fit_gd(model, X, y, epochs=400, restarts=4, lr=0.05, device="cpu", dtype="float64", progress=False)
    solver = tn.fit_solver(model, X, y, restarts=3, progress=False)
    return model, gd, solver


# (its gradients are among the registry's cases above)


def test_a_new_op_trains_under_both_trainers(softsign_fits, lesson_xy):
    _, X, y = lesson_xy
    model, gd, solver = softsign_fits
    assert Objective(model, X, y, backend="torch").kernel == "generic"
    start = tn.mse(model.predict(X, model.init(X.shape[1], seed=0)), y)
    for result in (gd, solver):
        # the loss each trainer reports is the loss of the parameters it returns
        assert result.loss == pytest.approx(tn.mse(model.predict(X, result.params), y), rel=1e-12)
        assert result.loss < 0.16 < start
    # gradient descent's last recorded epoch is within one step of the returned parameters' loss
    assert gd.history["train"][-1] == pytest.approx(gd.loss, rel=1e-3)
    # and the generic kernel and autograd take the same path
    again = tn.fit_gd(model, X, y, epochs=30, restarts=2, lr=0.05, device="cpu", dtype="float64", gradient="autograd",
                      progress=False)
    fast = tn.fit_gd(model, X, y, epochs=30, restarts=2, lr=0.05, device="cpu", dtype="float64", progress=False)
    np.testing.assert_allclose(model.flatten(fast.params), model.flatten(again.params), rtol=1e-9, atol=1e-12)


def test_a_new_op_renders_in_the_workbook(softsign_fits, titanic, tmp_path):
    train, test = titanic
    model, _, solver = softsign_fits
    features = tn.Features().fit(train)
    path = tn.write_workbook(tmp_path / "soft.xlsx", [tn.FittedModel(features, model, solver.params, "soft")], train, test)
    sheet = openpyxl.load_workbook(path)["soft"]
    headers = [c.value for c in sheet[3]]
    assert headers[16:23] == ["Lin1", "Lin2", "Lin3", "Soft1", "Soft2", "Soft3", "Preds"]
    assert sheet["T4"].value == "=Q4/(1+IF(Q4<0,-Q4,Q4))"


# -- tanh, end to end -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tanh_book(titanic, tmp_path_factory):
    train, test = titanic
    features = tn.Features()
    X, y = features.fit_transform(train)
    model = tn.MatMulNet(hidden=2, activation="tanh")
    gd = tn.fit_gd(model, X, y, epochs=1000, lr=0.05, restarts=4, device="cpu", progress=False)
    solver = tn.fit_solver(model, X, y, restarts=4, progress=False)
    fits = [tn.FittedModel(features, model, solver.params, "tanh"), tn.FittedModel(features, model, gd.params, "tanhgd")]
    path = tn.write_workbook(tmp_path_factory.mktemp("tanh") / "tanh.xlsx", fits, train, test)
    return path, fits, X, y, gd, solver


def test_tanh_in_numpy_is_the_formula(tanh_book):
    _, fits, X, _, _, _ = tanh_book
    W = fits[0].params
    np.testing.assert_allclose(fits[0].predict_inputs(X), np.tanh(X @ W).sum(1), rtol=1e-14)


def test_tanh_trains_under_both_trainers(tanh_book):
    _, fits, X, y, gd, solver = tanh_book
    model = fits[0].model
    for result in (gd, solver):
        assert result.loss == pytest.approx(tn.mse(model.predict(X, result.params), y), rel=1e-12)
        assert result.loss < 0.1335  # as the two-ReLU net does (0.129 to 0.132), far below linear's 0.1442
    assert abs(solver.loss - gd.loss) < 0.02 * solver.loss


def test_tanh_is_written_as_TANH(tanh_book):
    path, _, _, _, _, _ = tanh_book
    sheet = openpyxl.load_workbook(path)["tanh"]
    assert [c.value for c in sheet[3]][16:21] == ["Lin1", "Lin2", "Tanh1", "Tanh2", "Preds"]
    assert sheet["S4"].value == "=TANH(Q4)" and sheet["U4"].value == "=S4+T4"
    assert sheet["Q4"].value.text.startswith("=MMULT($G$4:$P$715,")


@pytest.mark.engines
def test_tanh_workbook_is_recomputed_by_libreoffice_and_read_back(tanh_book, tmp_path):
    path, fits, _, _, _, _ = tanh_book
    (recalculated,) = recalculate([path], tmp_path)
    report = compare(read_contents(path), recalculated)
    assert report.ok and report.cells_checked > 15_000, str(report)
    for got, written in zip(tn.read_workbook(recalculated), fits):
        assert got.model == written.model and got.model.activation == "tanh"
        np.testing.assert_allclose(got.params, written.params, rtol=1e-14)


def test_tanh_from_the_command_line(tmp_path):
    from titanic_nn.cli import main

    assert main(["fit", "--activation", "tanh", "--restarts", "1", "--quiet", "--out", str(tmp_path)]) == 0
    mmult = tn.load_model(tmp_path / "mmult.json")
    assert mmult.model == tn.MatMulNet(activation="tanh")
    assert tn.load_model(tmp_path / "nnet.json").model == tn.TwoReLU()  # the lesson's two ReLUs stay ReLUs
    assert openpyxl.load_workbook(tmp_path / "titanic.xlsx")["mmult"]["S4"].value == "=TANH(Q4)"


# -- the feature program reproduces the lesson's rules bit for bit ------------------------------------------


def _by_hand(train: pd.DataFrame, test: pd.DataFrame, preset: str, missing: str) -> tuple[np.ndarray, np.ndarray]:
    """The features written out in pandas, as the lesson workbook and notebook define them."""
    inputs = ["Age", "SibSp", "Parch", "Fare", "Pclass", "Sex", "Embarked"]
    kept = train.dropna(subset=inputs) if missing == "drop" else train
    fill = {c: kept[c].dropna().mode().iloc[0] for c in inputs}
    kept = kept.fillna(fill)
    rows = [kept, test.fillna(fill)]
    if preset == "sheet":
        top = kept["Age"].to_numpy(dtype=float).max()

        def features(f):
            return np.column_stack([
                f["SibSp"].to_numpy(float), f["Parch"].to_numpy(float), f["Age"].to_numpy(float) / top,
                np.log10(f["Fare"].to_numpy(float) + 1.0), f["Pclass"] == 1, f["Pclass"] == 2,
                f["Embarked"] == "S", f["Embarked"] == "C", f["Sex"] == "male", np.ones(len(f)),
            ]).astype(float)
    else:
        scale = {c: kept[c].to_numpy(float).max() for c in ("Age", "SibSp", "Parch")}
        fare_top = np.log(kept["Fare"].to_numpy(float) + 1.0).max()

        def features(f):
            return np.column_stack(
                [f[c].to_numpy(float) / scale[c] for c in ("Age", "SibSp", "Parch")]
                + [np.log(f["Fare"].to_numpy(float) + 1.0) / fare_top]
                + [f["Sex"] == s for s in ("male", "female")] + [f["Pclass"] == k for k in (1, 2, 3)]
                + [f["Embarked"] == e for e in ("C", "Q", "S")]
            ).astype(float)
    return features(rows[0]), features(rows[1])


@pytest.mark.parametrize("missing", ["drop", "mode"])
@pytest.mark.parametrize("preset", ["sheet", "notebook"])
def test_the_feature_program_reproduces_the_lessons_features_bit_for_bit(titanic, preset, missing):
    train, test = titanic
    features = tn.Features(preset, missing=missing)
    X, _ = features.fit_transform(train)
    X_test = features.transform(test)
    hand, hand_test = _by_hand(train, test, preset, missing)
    assert X.tobytes() == hand.tobytes() and X_test.tobytes() == hand_test.tobytes()
    assert len(X) == (712 if missing == "drop" else 891)


def test_each_statistic_is_held_by_its_op_and_written_in_a_cell(titanic, tmp_path):
    train, test = titanic
    features = tn.Features().fit(train)
    ops = {type(op).__name__: op for op in features.program_ if op.statistic() is not None and op.key == "Age"}
    assert ops["Scale"].divisor == 80.0 and ops["Fill"].value == 24.0
    fits = [tn.FittedModel(features, tn.Linear(), np.zeros(10), "linear")]
    book = openpyxl.load_workbook(tn.write_workbook(tmp_path / "s.xlsx", fits, train, test))
    sheet = book["linear"]
    assert (sheet["D1"].value, sheet["E1"].value) == ("Max:", "=MAX(E4:E715)")
    assert [sheet.cell(2, c).value for c in range(1, 9)] == ["Fill:", "S", "3", "male", 24, 13, 0, 0]
    # a blank test Age refers to the fill value's cell, so a changed fill value flows through
    blank_row = int(np.flatnonzero(test["Age"].isna().to_numpy())[0]) + 4
    assert book["test"][f"E{blank_row}"].value == "=linear!E$2"


# -- the public API --------------------------------------------------------------------------------------


def test_every_public_name_resolves_and_the_types_are_exported():
    for name in tn.__all__:
        assert getattr(tn, name) is not None, name
    assert tn.FittedModel.__module__ == "titanic_nn.training._fitted"
    assert issubclass(tn.OutputPathError, tn.TitanicNNError) and tn.WorkbookContents.__name__ == "WorkbookContents"
    import titanic_nn.errors as errors

    assert {n for n in dir(errors) if n.endswith(("Error", "Warning")) and not n.startswith("_")} == set(errors.__all__)


def test_a_registered_kind_is_built_by_every_reader_of_the_registry(monkeypatch):
    class Wide(tn.MatMulNet):
        kind = "wide"
        description = "a wider net"

        def __init__(self, *, output="raw", loss=None):
            super().__init__(6, output=output, loss=loss)

        def get_config(self):
            return {"kind": self.kind, "output": self.output, "loss": self.loss}

    monkeypatch.setitem(MODELS, "wide", Wide)
    train, _ = tn.load_titanic()
    clf = tn.SheetClassifier(model="wide", restarts=1).fit(train)
    assert clf.fitted_.model == Wide() and clf.fitted_.params.shape == (10, 6)
    assert tn.model_from_config(Wide().get_config()) == Wide()
    from titanic_nn.cli import build_parser

    assert build_parser().parse_args(["fit", "--model", "wide"]).model == "wide"
    assert math.isfinite(Wide().predict(np.ones((2, 3)), Wide().init(3)).sum())


# -- what the review of the change found ----------------------------------------------------------------


class SumOfThree(tn.Model):
    """X @ W summed over three columns: the least-squares program's ops, but a (n, 3) weight."""

    kind = "sum3"

    def hidden_program(self):
        return (MatMul(0), SumUnits())

    def shapes(self, n_features):
        return [(n_features, 3)]

    def arrays(self, params):
        return [np.asarray(params, dtype=float)]

    def from_arrays(self, arrays):
        return np.asarray(arrays[0], dtype=float).copy()


@pytest.mark.parametrize("output", [output for output in OUTPUTS if 1 in OUTPUT_UNITS[output]])
def test_the_kernel_matches_the_weights_shape_too(output):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 4)), rng.integers(0, 2, 50).astype(float)
    model = SumOfThree(output=output)
    assert Objective(model, X, y, backend="numpy").kernel == "generic"  # not the gram form: w is not one column
    assert Objective(model, X, y, backend="torch").kernel == "fused"
    for backend in ("numpy", "torch"):
        assert_matches_autograd(model, X, y, backend=backend)
    result = tn.fit_solver(model, X, y, restarts=1, progress=False)
    assert result.loss == pytest.approx(tn.mse(model.predict(X, result.params), y), rel=1e-12)


def test_log_loss_is_one_loss_even_where_the_sigmoid_saturates():
    import torch
    from titanic_nn.training import autograd_loss_and_grad

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), (rng.uniform(size=20) > 0.5).astype(float)
    model = tn.Linear(output="sigmoid", loss="logloss")
    w = np.array([30.0, -30.0, 30.0])[None, :, None]  # predictions at 0 and 1 to float precision
    ref_loss, ref_grads = autograd_loss_and_grad(model, torch.tensor(X), torch.tensor(y), [torch.tensor(w)])
    for gradient in ("fast", "generic"):
        for backend in ("numpy", "torch"):
            objective = Objective(model, X, y, backend=backend, gradient=gradient)
            loss, grads = objective.loss_and_grad([w] if backend == "numpy" else [torch.tensor(w)])
            np.testing.assert_allclose(np.asarray(grads[0]), ref_grads[0].numpy(), rtol=1e-9, atol=1e-13)
            # the logits form clips where the probabilities are clipped (its rounding differs there by 1e-7)
            np.testing.assert_allclose(np.asarray(loss), ref_loss.numpy(), rtol=1e-6)
    assert ref_loss.item() == pytest.approx(tn.log_loss(model.predict(X, w[0, :, 0]), y), rel=1e-12)


@pytest.mark.parametrize("continuous, message", [
    ((tn.Continuous("Fare", log="log10", name="Age"), tn.Continuous("Age", scale="max")), "a feature is named Age, like the input column Age"),
    ((tn.Continuous("SibSp", name="X"), tn.Continuous("Parch", name="X")), "the feature X is made twice"),
])
def test_feature_names_that_would_be_read_in_place_of_another_are_refused(titanic, continuous, message):
    train, _ = titanic
    with pytest.raises(tn.DataError, match=message):
        tn.Features(tn.Schema(continuous=continuous)).fit(train)


@pytest.mark.engines
def test_a_categorical_fill_is_a_level_as_the_sheet_holds_levels(titanic, tmp_path):
    train, test = (frame.copy() for frame in titanic)
    for frame in (train, test):  # Pclass read as text "1", "2", "3", with blanks
        frame["Pclass"] = frame["Pclass"].astype(str).astype(object)
    train.loc[train.index[:5], "Pclass"] = np.nan
    test.loc[test.index[:3], "Pclass"] = np.nan
    features = tn.Features(missing="mode")
    X, _ = features.fit_transform(train)
    fitted = tn.FittedModel(features, tn.Linear(), np.linspace(-1, 1, X.shape[1]), "linear")
    path = tn.write_workbook(tmp_path / "text_levels.xlsx", [fitted], train, test)
    assert openpyxl.load_workbook(path)["linear"]["C2"].value == "3"  # the text "3", as the cells hold the level
    assert tn.verify(path, engines="all").ok


def test_a_categorical_column_blank_in_every_training_row_is_refused(titanic):
    train, _ = titanic
    with pytest.raises(tn.DataError, match="column Embarked is blank in every row, so it has no level"):
        tn.Features(tn.Schema(categorical=(tn.Categorical("Embarked"),)), missing="mode").fit(train.assign(Embarked=np.nan))


def test_saved_features_missing_a_statistic_say_so(lesson_xy):
    features, _, _ = lesson_xy
    saved = features.to_dict()
    del saved["divisors"]["Age"]
    with pytest.raises(tn.DataError, match="the saved features lack the divisors of column Age"):
        tn.Features.from_dict(saved)
