"""Training sheets of models with embedding tables: the lookups and the tables' gradients as one-hot products, every
epoch equal to Python's float64 descent in every engine, the tables decayed but for their unseen row, and a sheet whose
one-hot blocks would be too long to recalculate refused."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn.cli import main
from titanic_nn.engines import ENGINES, compare, recalculate
from titanic_nn.features import Categorical, Continuous, Schema, embedded, sheet_schema
from titanic_nn.nn import build_model
from titanic_nn.training import Stepper
from titanic_nn.workbook import check_training_sheets, read_contents, training_layouts
from titanic_nn.workbook._layout import TABLE
from titanic_nn.workbook._training_sheets import MAX_WORK, start_arrays

EPOCHS = 50
WD = 0.1


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The bundled Titanic with Embarked (width 2) and Pclass (fastai's width) embedded: linear trained by gradient
    descent on the 80/20 split under log loss (its sheet sums over the rows marked Valid 0) and a two-layer tabular net
    from its start; both sheets under Adam's one-cycle schedule with weight decay."""
    train, _ = tn.load_titanic()
    features = tn.Features(embedded(sheet_schema(), {"Embarked": 2, "Pclass": True}))
    linear = tn.train_model(train, build_model("linear", output="sigmoid", loss="logloss"), features=features, method="gd", epochs=20, lr=0.05, seed=1, progress=False)
    linear.name = "linear"
    X = linear.features.transform(train, training=True)
    tabular = linear.features.model_for(build_model("tabular", layers=[3, 2]))
    fits = [linear, tn.FittedModel(linear.features, tabular, tabular.init(X.shape[1], seed=5), "tabular")]
    path = tmp_path_factory.mktemp("embedded") / "embedded.xlsx"
    training = tn.SheetTraining(EPOCHS, "adam", 0.05, {"beta2": 0.99}, schedule="one-cycle", wd=WD)
    return tn.write_workbook(path, fits, train, training=training)


def _layouts(path):
    contents = read_contents(path)
    return dict((fitted.name, (fitted, layout)) for fitted, layout in training_layouts(contents.description, contents.fits, len(contents.train)))


def test_every_model_with_tables_gets_its_sheet_with_the_tables_laid_out(book):
    names = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert [n for n in names if n.startswith("train_")] == ["train_linear", "train_tabular"]
    fitted, layout = _layouts(book)["tabular"]
    assert layout.descent.wd == WD
    sheet = openpyxl.load_workbook(book)["train_tabular"]
    # gd_start holds each table as the model sheet does: titled Embedding, a row per level, the unseen row last
    tables = [b for b in layout.start if b.layout is TABLE]
    assert [len(b.row_labels) for b in tables] == [4, 4]
    assert [sheet.cell(tables[1].top + i, tables[1].label_col + 1).value for i in range(4)] == ["C", "Q", "S", "(unseen)"]
    assert sheet.cell(tables[1].header_row, tables[1].label_col + 1).value == "Embedding"
    index = tables[1].index
    top, left, _, _ = layout.block(3, "grads", index)
    gradient = sheet.cell(top, left + 1).value.text
    # the table's gradient: the one-hot block of the level numbers (the model sheet's Embarked_code column) transposed,
    # times the rows' gradients
    assert "MMULT(TRANSPOSE(((MMULT(tabular!$" in gradient and "{1,2,3,4}" in gradient
    top, left, _, _ = layout.block(3, "next", index)
    # decayed but for the unseen row: its mask is a constant array whose last row is zeros
    assert ";0,0})" in sheet.cell(top, left + 1).value.text


@pytest.mark.engines
@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_epoch_agrees_with_python_in_every_engine(book, engine, tmp_path):
    (out,) = recalculate([book], tmp_path / engine, engine=engine, timeout=600)
    report = compare(read_contents(book), out, engine)
    assert report.ok, str(report)
    assert [sheet.sheet for sheet in report.training] == ["train_linear", "train_tabular"]
    for sheet in report.training:
        assert sheet.ok, sheet.first_mismatch
        assert sheet.cells_checked > EPOCHS * 10
        assert sheet.trajectory_epoch is None, (sheet.sheet, sheet.trajectory_rel_diff)
    # gd_final as the engine computed it is the last epoch of Python's own descent, the tables included
    layouts = _layouts(book)
    contents = read_contents(book)
    for final in tn.read_workbook(out, source="training"):
        fitted, layout = layouts[final.name]
        X = fitted.features.transform(contents.train, training=True)
        y = fitted.features.target(contents.train)
        keep = np.ones(len(y), dtype=bool)
        keep[tn.training.valid_positions(fitted.training, len(y))] = False
        history = Stepper(fitted.model, X[keep], y[keep], layout.descent).run(start_arrays(fitted, X.shape[1]), EPOCHS)
        for got, expected in zip(fitted.model.arrays(final.params), history[-1].next_params):
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
        assert not np.array_equal(history[-1].next_params[-1][:-1], start_arrays(fitted, X.shape[1])[-1][:-1])


def test_a_sheet_of_many_levels_is_refused_for_its_one_hot_blocks(tmp_path):
    """500 levels of width 1: the table's 501 entries alone would pass, but each epoch also builds a 600 x 501 one-hot
    block twice, which the cost check counts."""
    n = 600
    frame = pd.DataFrame({
        "Id": range(1, n + 1), "Shop": [f"s{i % 500:03d}" for i in range(n)],
        "Size": np.linspace(1.0, 10.0, n), "Label": [i % 2 for i in range(n)],
    })
    schema = Schema(target="Label", id_column="Id", continuous=(Continuous("Size", scale="max"),), categorical=(Categorical("Shop", embed=1),))
    features = tn.Features(schema).fit(frame)
    model = features.model_for(tn.Linear())
    fitted = tn.FittedModel(features, model, model.init(len(features.feature_names_), seed=0), "shops")
    assert 300 * n * model.n_params(len(features.feature_names_)) < MAX_WORK
    with pytest.raises(tn.TitanicNNError, match=r"300 epochs x 600 rows x 504 parameters \(and 501 table rows' one-hot lookups\)"):
        check_training_sheets([fitted], n, tn.SheetTraining(300))
    check_training_sheets([fitted], n, tn.SheetTraining(100))  # fewer epochs are written


def test_the_cli_writes_training_sheets_for_embedded_columns(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["fit", "--embed", "Embarked:2", "--kinds", "linear", "--restarts", "1", "--sheet-epochs", "3", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "training sheets:" not in printed and "embedding tables" not in printed
    (workbook,) = out.glob("*.xlsx")
    assert "train_linear" in openpyxl.load_workbook(workbook, read_only=True).sheetnames
