"""Embeddings: a categorical column's level number, its table row looked up in numpy, torch and every engine, the
table's gradient against torch autograd for every model kind, and the table read back after an edit in a sheet."""

from __future__ import annotations

import json
import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn.cli import main
from titanic_nn.engines import compare, recalculate
from titanic_nn.errors import DataError, InvalidModelError, UnseenLevelWarning
from titanic_nn.features import Categorical, Continuous, Schema, embedded, embedding_width, sheet_schema
from titanic_nn.nn import MODELS, NUMPY, Embed, build_model, trace
from titanic_nn.training import Objective
from titanic_nn.workbook import read_contents

from gradients import assert_matches_autograd

# Colour's levels differ only by case ("red", "Red"): an exact lookup keeps them apart, as MATCH alone would not.
COLOURS = ["red", "Red", "blue", "green", "red", "blue", "Red", "green", "red", "blue", "green", "Red"]


def _table(n: int = 48, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    colour = [COLOURS[i % len(COLOURS)] for i in range(n)]
    size = rng.uniform(1.0, 10.0, n).round(2)
    # the target follows the colour and the size, so the table's rows matter
    score = np.array([{"red": 0.8, "Red": 0.2, "blue": 0.6, "green": 0.1}[c] for c in colour]) + 0.04 * size
    return pd.DataFrame({"Id": range(1, n + 1), "Colour": colour, "Size": size, "Label": (score > 0.6).astype(int)})


def _schema(width: int | bool = 2) -> Schema:
    return Schema(
        target="Label", id_column="Id", continuous=(Continuous("Size", scale="max"),),
        categorical=(Categorical("Colour", embed=width),),
    )


def test_widths_follow_fastai_rule():
    # ../shared/reference/fastai-tabular.md: n = 3 gives 3, n = 10 gives 6, n = 500 gives 52
    assert [embedding_width(n) for n in (2, 3, 10, 500, 10**6)] == [2, 3, 6, 52, 600]


def test_level_numbers_are_exact_text_and_unseen_levels_take_the_last_row():
    feats = tn.Features(_schema(True))
    X, _ = feats.fit_transform(_table())
    assert feats.embedded_levels_ == {"Colour": ("Red", "blue", "green", "red")}  # text order: capitals first
    assert feats.embeddings_ == ((5, 3),)  # 4 levels (fastai's width 3) and the unseen row
    assert feats.feature_names_[0] == "Colour_code"
    assert X[:4, 0].tolist() == [4.0, 1.0, 2.0, 3.0]  # red, Red, blue, green
    other = _table(4).assign(Colour=["RED", "red", "purple", "Red"])
    with pytest.warns(UnseenLevelWarning, match=r"'RED', 'purple'.*unseen"):
        codes = feats.transform(other)[:, 0]
    assert codes.tolist() == [5.0, 4.0, 5.0, 1.0]


def test_embedded_column_takes_no_dummy_settings():
    with pytest.raises(DataError, match="embedded column gets no dummies"):
        Categorical("Colour", embed=2, levels=("red",))
    with pytest.raises(tn.TitanicNNError, match="embed must be a whole number of columns from 1 to 600"):
        Categorical("Colour", embed=0)
    with pytest.raises(DataError, match="Nope is not a categorical column"):
        embedded(sheet_schema(), {"Nope": True})


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_gradient_of_the_lookup_matches_autograd(kind, backend):
    feats = tn.Features(embedded(sheet_schema(), {"Embarked": 2, "Pclass": True}))
    X, y = feats.fit_transform(tn.load_titanic()[0])
    model = feats.model_for(build_model(kind, output="sigmoid", loss="logloss"))
    assert [type(op) for op in model.program()[:2]] == [Embed, Embed]
    assert_matches_autograd(model, X, y, backend=backend, gradient="generic")


def test_table_gradient_adds_each_rows_gradient_into_its_levels_row():
    # d loss / d table[level] is the sum over the rows of that level of d loss / d their looked-up values: with a
    # linear model and squared error, 2/n * sum over the level's rows of (pred - y) * w of the embedding's inputs
    feats = tn.Features(_schema(2))
    X, y = feats.fit_transform(_table())
    model = feats.model_for(tn.Linear())
    params = model.init(X.shape[1], seed=3)
    w, table = model.arrays(params)
    objective = Objective(model, X, y, backend="numpy", gradient="generic")
    _, grads = objective.loss_and_grad([w, table])
    pred = model.predict(X, params)
    residual = 2.0 * (pred - y) / len(y)
    codes = X[:, 0].astype(int) - 1
    expected = np.zeros_like(table)
    for level in range(table.shape[0]):
        expected[level] = residual[codes == level].sum() * w[-2:, 0]  # the embedding's 2 values come last
    np.testing.assert_allclose(grads[1], expected, rtol=1e-12, atol=1e-15)
    assert not grads[1][-1].any()  # no training row has an unseen level


def test_every_kind_trains_its_table_and_saves_it(tmp_path):
    train = _table()
    for kind in MODELS:
        fitted = tn.train_model(train, build_model(kind), features=tn.Features(_schema(2)), restarts=2)
        table = fitted.model.arrays(fitted.params)[-1]
        assert table.shape == (5, 2)
        start = fitted.model.arrays(fitted.model.init(3, seed=0))[-1]
        assert not np.allclose(table[:-1], start[:-1])  # trained
        path = tmp_path / f"{kind}.json"
        tn.save_model(fitted, path)
        loaded = tn.load_model(path)
        np.testing.assert_array_equal(loaded.predict(train), fitted.predict(train))
        data = json.loads(path.read_text())
        assert data["model"]["embeddings"] == [[5, 2]]
        data["model"]["embeddings"] = [[4, 2]]
        (tmp_path / "bad.json").write_text(json.dumps(data))
        with pytest.raises(InvalidModelError):
            tn.load_model(tmp_path / "bad.json")


@pytest.mark.engines
def test_workbook_looks_levels_up_exactly_in_every_engine_and_import_reads_an_edited_table(tmp_path):
    train, test = _table(), _table(12, seed=1).drop(columns="Label")
    test.loc[3, "Colour"] = "RED"  # unseen: the table's last row
    fits = []
    for kind in ("linear", "tabular"):
        # one hidden layer: a training sheet's formula repeats each layer's input, and two layers under log loss with
        # an embedding pass Excel's 8,192 characters (refused, docs/trainers.md)
        layers = {"layers": [4]} if kind == "tabular" else {}
        fitted = tn.train_model(
            train, build_model(kind, output="sigmoid", loss="logloss", **layers), features=tn.Features(_schema(2)), restarts=2
        )
        fitted.name = kind
        fits.append(fitted)
    fits[1].features = fits[0].features
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenLevelWarning)
        # with training sheets: each epoch's lookups and table gradients tell "red" from "Red" as the model sheet does
        path = tn.write_workbook(tmp_path / "book.xlsx", fits, train, test, training=tn.SheetTraining(30, "sgd", 0.1))
        report = tn.verify(path)
    assert report.ok, str(report)
    assert [sheet.sheet for sheet in report.engines[0].training] == ["train_linear", "train_tabular"]
    assert all(sheet.ok and sheet.trajectory_epoch is None for engine in report.engines for sheet in engine.training)

    book = openpyxl.load_workbook(path)
    sheet = book["tabular"]
    found = [(c.row, c.column) for row in sheet.iter_rows() for c in row if c.value == "Embedding"]
    assert len(found) == 1
    top, label_col = found[0][0] + 1, found[0][1]
    labels = [sheet.cell(top + i, label_col).value for i in range(5)]
    assert labels == ["Red", "blue", "green", "red", "(unseen)"]
    code = next(c for c in sheet[3] if c.value == "Colour_code")
    assert "EXACT(" in sheet.cell(4, code.column).value.text  # an array formula: the exact lookup
    sheet.cell(top + 1, label_col + 1).value = 0.375  # blue's first value, as a user re-solving would
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    (resaved,) = recalculate([edited], tmp_path / "out")
    read = tn.read_workbook(resaved)
    table = read[1].model.arrays(read[1].params)[-1]
    assert table[1, 0] == 0.375
    np.testing.assert_allclose(
        np.delete(table.ravel(), 2), np.delete(fits[1].model.arrays(fits[1].params)[-1].ravel(), 2), rtol=1e-14
    )
    # the edited workbook computes what Python computes with the table read back
    assert compare(read_contents(edited), resaved).ok
    X = read[1].features.transform(train, training=True)
    blue = X[:, 0] == 2.0
    numbers = trace(read[1].model.program(), X, read[1].model.arrays(read[1].params), NUMPY)
    assert np.all(numbers[1][blue, -2] == 0.375)  # every blue row's first embedding value is the edited cell


def test_cli_embeds_named_columns_and_tabular_embeds_all(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["fit", "--embed", "Embarked:2,Pclass", "--restarts", "2", "--sheet-epochs", "0", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "embeddings: Pclass (3 levels, 3 values each), Embarked (3 levels, 2 values each)" in printed
    saved = json.loads((out / "nnet.json").read_text())
    assert saved["model"]["embeddings"] == [[4, 3], [4, 2]]
    code = main(["fit", "--kinds", "tabular", "--layers", "4,4", "--restarts", "1", "--sheet-epochs", "0", "--out", str(out / "t")])
    assert code == 0
    saved = json.loads((out / "t" / "tabular.json").read_text())
    assert saved["model"]["layers"] == [4, 4] and len(saved["model"]["embeddings"]) == 3  # Pclass, Embarked, Sex
    assert sorted(p.name for p in (out / "t").glob("*.json")) == ["tabular.json"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--embed", "Nope"], "--embed: Nope is not a categorical column"),
        (["--embed", "Embarked:0"], "'Embarked:0': the width 0 is outside [1, 600]"),
        (["--kinds", "forest"], "forest is not a model kind"),
    ],
)
def test_cli_refuses_bad_embeddings_in_one_line(argv, message, tmp_path, capsys):
    code = main(["fit", *argv, "--out", str(tmp_path / "run")])
    assert code != 0
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
