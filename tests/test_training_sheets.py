"""Training sheets: gradient descent in formulas, checked step by step and as a trajectory in both engines,
retrained by hand in the sheet, and read back into Python."""

from __future__ import annotations

import warnings

import numpy as np
import openpyxl
import pytest

import titanic_nn as tn
from titanic_nn.engines import ENGINES, compare, recalculate
from titanic_nn.training import Stepper, make_optimizer
from titanic_nn.workbook import read_contents
from titanic_nn.workbook._training_sheets import start_arrays

from workbook_cases import lesson_fits, other_fits, tanh_fits

pytestmark = pytest.mark.engines

EPOCHS = 40


@pytest.fixture(scope="module")
def books(titanic, tmp_path_factory):
    """Every model kind and option with its training sheet, under each optimiser, one workbook each."""
    train, _ = titanic
    folder = tmp_path_factory.mktemp("trained")
    features = tn.Features().fit(train)
    kinds = lesson_fits(train, features) + other_fits(train) + tanh_fits(train)
    for fitted in kinds:
        fitted.features = features
    lesson = lesson_fits(train, features)
    # linear, nnet, mmult, layers=[3, 2], a linear head, sigmoid with mse and with log loss, tanh, tabular, under Adam
    made = {"adam": tn.write_workbook(folder / "adam.xlsx", kinds, train, training=tn.SheetTraining(epochs=EPOCHS))}
    for name, (lr, settings) in OTHER_OPTIMIZERS.items():  # the lesson's three models under every other optimiser
        made[name] = tn.write_workbook(
            folder / f"{name}.xlsx", lesson, train, training=tn.SheetTraining(EPOCHS, name, lr, settings)
        )
    # every optimiser under the one-cycle schedule with weight decay, on the lesson's models and a net whose head has a
    # bias (which is not decayed)
    head = [f for f in other_fits(train) if f.name == "head"]
    for f in head:
        f.features = features
    for name, (lr, settings) in SCHEDULED.items():
        made[f"{name}-{SCHEDULED_CASE}"] = tn.write_workbook(
            folder / f"{name}-{SCHEDULED_CASE}.xlsx", lesson + head, train,
            training=tn.SheetTraining(EPOCHS, name, lr, settings, schedule="one-cycle", wd=WD),
        )
    return made


# Every optimiser but Adam, with a learning rate at which it descends steadily and settings other than its defaults
# where it has them (each optimiser of the registry has its entry: test_every_optimizer_has_its_book).
OTHER_OPTIMIZERS = {"sgd": (0.1, {}), "momentum": (0.02, {"momentum": 0.8}), "rmsprop": (0.01, {"beta2": 0.95})}


# Every optimiser's peak rate under the one-cycle schedule with weight decay WD (and settings other than the defaults)
SCHEDULED = {"adam": (0.05, {"beta2": 0.99}), **OTHER_OPTIMIZERS}
SCHEDULED_CASE, WD = "one-cycle-wd", 0.1


def test_every_optimizer_has_its_book():
    assert {"adam", *OTHER_OPTIMIZERS} == set(tn.training.OPTIMIZERS) == set(SCHEDULED)


@pytest.fixture(scope="module", params=list(ENGINES))
def recalculated(request, books, tmp_path_factory):
    engine = request.param
    outputs = recalculate(list(books.values()), tmp_path_factory.mktemp(engine), engine=engine, timeout=600)
    return engine, {name: (path, out) for (name, path), out in zip(books.items(), outputs)}


def test_the_cases_cover_every_model_kind_and_option(books):
    models = {f.name: f.model for f in tn.read_workbook(books["adam"])}
    configs = [m.get_config() for m in models.values()]
    assert {m.kind for m in models.values()} == set(tn.MODELS)
    assert any(c.get("layers") == [3, 2] for c in configs) and any(c.get("head") == "linear" for c in configs)
    assert {(m.output, m.loss_name) for m in models.values()} >= {("raw", "mse"), ("sigmoid", "mse"), ("sigmoid", "logloss")}
    assert any(c.get("activation") == "tanh" for c in configs)
    names = openpyxl.load_workbook(books["adam"], read_only=True).sheetnames
    assert [n for n in names if n.startswith("train_")] == [f"train_{name}" for name in models]


@pytest.mark.parametrize("case", ["adam", *OTHER_OPTIMIZERS, *(f"{name}-{SCHEDULED_CASE}" for name in SCHEDULED)])
def test_every_step_and_the_whole_trajectory_agree_with_python(recalculated, case):
    engine, copies = recalculated
    path, out = copies[case]
    report = compare(read_contents(path), out, engine)
    assert report.ok, str(report)
    assert len(report.training) == len(tn.read_workbook(path)) == {"adam": 11}.get(case, 4 if SCHEDULED_CASE in case else 3)
    for sheet in report.training:
        assert sheet.ok, sheet.first_mismatch
        assert sheet.cells_checked > EPOCHS * 10
        # a stable learning rate: the sheet's trajectory is Python's to float precision
        assert sheet.trajectory_epoch is None, (sheet.sheet, sheet.trajectory_rel_diff)


def test_at_a_chaotic_learning_rate_each_step_agrees_though_the_trajectory_drifts(titanic, tmp_path):
    train, _ = titanic
    nnet = lesson_fits(train)[1]
    path = tn.write_workbook(tmp_path / "chaos.xlsx", [nnet], train, training=tn.SheetTraining(200, "sgd", 0.5))
    report = tn.verify(path, engines="all")
    assert report.ok, str(report)
    for engine in report.engines:
        (sheet,) = engine.training
        assert sheet.ok and sheet.trajectory_epoch is not None and sheet.trajectory_epoch < 150
        assert "expected where the learning rate makes the descent chaotic" in engine.training_lines()[0]


def test_a_sheet_whose_step_is_wrong_fails(books, tmp_path):
    path = books["sgd"]
    book = openpyxl.load_workbook(path)
    sheet = book["train_nnet"]
    layout = [a for a in _layouts(path) if a.name == "train_nnet"][0]
    top, left, _, _ = layout.block(10, "next", 0)
    update = sheet.cell(top, left + 1).value
    assert "-$B$2*" in update.text
    update.text = update.text.replace("-$B$2*", "-2*$B$2*")  # epoch 10 takes a step twice as long
    broken = tmp_path / "broken.xlsx"
    book.save(broken)
    (out,) = recalculate([broken], tmp_path / "out")
    report = compare(read_contents(broken), out)
    (nnet,) = [t for t in report.training if t.sheet == "train_nnet"]
    assert not report.ok and not nnet.ok
    assert nnet.first_mismatch.startswith("train_nnet: epoch 10's next parameters, W1: Python")
    # the steps after it are checked from the sheet's own parameters, so they agree again
    assert nnet.mismatches == 20
    assert all(t.ok for t in report.training if t.sheet != "train_nnet")


def _layouts(path):
    from titanic_nn.workbook import training_layouts

    contents = read_contents(path)
    return [layout for _, layout in training_layouts(contents.description, contents.fits, len(contents.train))]


def test_the_defined_names_are_local_to_each_training_sheet(books):
    book = openpyxl.load_workbook(books["sgd"])
    sheet = book["train_nnet"]
    names = {name: dn.attr_text for name, dn in sheet.defined_names.items()}
    assert set(names) >= {"gd_lr", "gd_start", "gd_final", "gd_loss"}
    assert names["gd_lr"] == "train_nnet!$B$2" and sheet["B2"].value == 0.1
    assert names["gd_loss"].startswith("train_nnet!$") and "gd_lr" not in book.defined_names


@pytest.mark.parametrize("engine", list(ENGINES))
def test_retraining_by_hand_in_the_sheet(titanic, tmp_path, engine):
    train, _ = titanic
    features = tn.Features()
    X, y = features.fit_transform(train)
    nnet = tn.FittedModel(features, tn.TwoReLU(), tn.TwoReLU().init(X.shape[1], seed=4), "nnet")
    path = tn.write_workbook(tmp_path / "by_hand.xlsx", [nnet], train, training=tn.SheetTraining(60, "sgd", 0.1))
    # a user types a new learning rate and a new start into the orange cells, and saves
    book = openpyxl.load_workbook(path)
    sheet = book["train_nnet"]
    sheet["B2"].value = 0.05
    start = tn.TwoReLU().init(X.shape[1], seed=11)  # (10, 2): column j is unit j, a row of the sheet's block
    for j in range(2):
        for i in range(X.shape[1]):
            sheet.cell(6 + j, 2 + i).value = float(start[i, j])
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    (out,) = recalculate([edited], tmp_path / engine, engine=engine)
    (read,) = tn.read_workbook(out, source="training")
    expected = tn.fit_gd(
        tn.TwoReLU(), X, y, optimizer="sgd", lr=0.05, epochs=60, init=start, dtype="float64", device="cpu", progress=False
    )
    np.testing.assert_allclose(read.params, expected.params, rtol=1e-9, atol=1e-12)
    # and Python's numpy steps are the same trajectory
    history = Stepper(tn.TwoReLU(), X, y, make_optimizer("sgd", 0.05)).run(tn.TwoReLU().arrays(start), 60)
    np.testing.assert_allclose(history[-1].next_params[0], expected.params, rtol=1e-9, atol=1e-12)


def test_the_import_round_trip_from_the_training_sheets(books, recalculated, tmp_path):
    from titanic_nn.cli import main

    engine, copies = recalculated
    _, out = copies["momentum"]
    assert main(["import", str(out), "--from", "training", "--out", str(tmp_path / "imported"), "--quiet",
                 "--test", str(tn.data_path("test.csv"))]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        final = openpyxl.load_workbook(out, data_only=True, read_only=True)["train_nnet"]
        grid = np.array([[final.cell(6 + j, 14 + i).value for i in range(10)] for j in range(2)], dtype=float)
    imported = tn.load_model(tmp_path / "imported" / "nnet.json")
    np.testing.assert_array_equal(imported.params, grid.T)  # gd_final (right of gd_start), unit j in row j
    assert imported.training["from"] == "train_nnet (gd_final)"


def test_limits_are_refused_never_cut_short(titanic, tmp_path):
    train, _ = titanic
    features = tn.Features().fit(train)
    deep = tn.MatMulNet(layers=[4] * 5, head="linear", output="sigmoid", loss="logloss")
    fits = [tn.FittedModel(features, deep, deep.init(10), "deep")]
    with pytest.raises(tn.TitanicNNError, match=r"its loss is a formula of [\d,]+ characters, more than Excel's 8,192"):
        tn.write_workbook(tmp_path / "deep.xlsx", fits, train, training=5)
    nnet = lesson_fits(train)[1:2]
    with pytest.raises(tn.TitanicNNError, match=r"would recalculate 10,000 epochs x 712 rows x 20 parameters"):
        tn.write_workbook(tmp_path / "long.xlsx", nnet, train, training=10_000)
    assert not (tmp_path / "deep.xlsx").exists() and not (tmp_path / "long.xlsx").exists()


@pytest.mark.parametrize("engine", list(ENGINES))
def test_with_rows_held_out_only_the_training_rows_train_and_moved_marks_follow(titanic, tmp_path, engine):
    """A model trained on the 80/20 split: its training sheet sums over the rows marked Valid 0, as Python's
    gradient descent did, and a mark moved on the model sheet moves the row in or out of the training sheet."""
    train, _ = titanic
    fitted = tn.train_model(train, tn.TwoReLU(), method="gd", epochs=EPOCHS, lr=0.05, seed=2, progress=False)
    split = fitted.training["split"]
    assert (split["n_train"], split["n_valid"]) == (570, 142)
    path = tn.write_workbook(tmp_path / "split.xlsx", [fitted], train, training=tn.SheetTraining(epochs=EPOCHS))
    book = openpyxl.load_workbook(path)
    sheet = book["train_nnet"]
    top, col = _layouts(path)[0].loss_cell(1)
    loss_formula = sheet.cell(top, col + 1).value.text
    assert "COUNTIF(nnet!$" in loss_formula and "=0)*(" in loss_formula
    # the sheet starts where Python's run started and takes its steps, on the 570 training rows only
    contents = read_contents(path)
    (out,) = recalculate([path], tmp_path / engine, engine=engine)
    report = compare(contents, out, engine)
    assert report.ok and report.training[0].trajectory_epoch is None, str(report)
    (final,) = tn.read_workbook(out, source="training")
    np.testing.assert_allclose(final.params, fitted.params, rtol=1e-4, atol=1e-5)  # Python's float32 run
    # a person moves the first training row into validation: both sheets follow the marks
    model_sheet = book["nnet"]
    valid_col = next(c.column for c in model_sheet[3] if c.value == "Valid")
    moved = next(r for r in range(4, 716) if model_sheet.cell(r, valid_col).value == 0)
    model_sheet.cell(moved, valid_col).value = 1
    edited = tmp_path / "moved.xlsx"
    book.save(edited)
    contents = read_contents(edited)
    assert contents.fits[0].training["split"]["n_valid"] == 143
    (out,) = recalculate([edited], tmp_path / f"{engine}-moved", engine=engine)
    report = compare(contents, out, engine)
    assert report.ok and report.training[0].trajectory_epoch is None, str(report)
    (moved_final,) = tn.read_workbook(out, source="training")
    assert np.abs(moved_final.params - final.params).max() > 1e-6  # one row fewer trains


@pytest.mark.parametrize("name", list(SCHEDULED))
def test_a_scheduled_sheet_has_its_rate_and_momentum_per_epoch_and_decays_no_bias(books, name):
    """Each epoch's Rate (and Momentum or Beta1, where the optimiser has one) is a formula of the orange settings, with
    Python's values cached; the weights' update scales them by 1 - rate * wd, the bias's does not."""
    path = books[f"{name}-{SCHEDULED_CASE}"]
    layout = [a for a in _layouts(path) if a.name == "train_head"][0]
    sheet = openpyxl.load_workbook(path)["train_head"]
    values = openpyxl.load_workbook(path, data_only=True)["train_head"]
    lr, settings = SCHEDULED[name]
    assert set(layout.schedule_cols) == ({"rate", "momentum"} if name in ("adam", "momentum") else {"rate"})
    assert {"wd", "div", "div_final", "pct_start"} <= set(layout.settings)
    row, col = layout.settings["wd"]
    assert values.cell(row, col + 1).value == WD and values.cell(row, col).value == "Weight decay:"
    schedule = tn.training.OneCycle()
    for epoch in (1, 5, 11, EPOCHS):
        top = layout.top(epoch)
        rate = sheet.cell(top, layout.schedule_cols["rate"] + 1).value
        assert "COS(PI()" in rate.text and layout.setting_ref("lr") in rate.text
        assert values.cell(top, layout.schedule_cols["rate"] + 1).value == pytest.approx(schedule.rate(lr, epoch, EPOCHS), rel=1e-15)
        if "momentum" in layout.schedule_cols:
            assert values.cell(top, layout.schedule_cols["momentum"] + 1).value == pytest.approx(schedule.momentum(epoch, EPOCHS), rel=1e-15)
    top, left, _, _ = layout.block(3, "next", 0)
    weights = sheet.cell(top, left + 1).value.text
    wd_ref = layout.setting_ref("wd")
    assert weights.startswith(f"=({layout.block_ref(3, 'params', 0)}*(1-{layout.rate_ref(3)}*{wd_ref}))")
    top, left, _, _ = layout.block(3, "next", 2)  # the head's bias
    assert wd_ref not in sheet.cell(top, left + 1).value.text
    # read back: the layout from the description, and gd_final as the last epoch of Python's own descent
    assert (layout.descent.schedule.name, layout.descent.wd, layout.optimizer.lr) == ("one-cycle", WD, lr)
    contents = read_contents(path)
    (fitted,) = [f for f in contents.fits if f.name == "head"]
    X, y = fitted.features.transform(contents.train, training=True), fitted.features.target(contents.train)
    final = {f.name: f for f in tn.read_workbook(path, source="training")}["head"]
    history = Stepper(fitted.model, X, y, layout.descent).run(start_arrays(fitted, X.shape[1]), EPOCHS)
    np.testing.assert_allclose(fitted.model.arrays(final.params)[0], history[-1].next_params[0], rtol=1e-12)


def test_changing_the_learning_rate_reshapes_the_whole_cycle(books, tmp_path):
    """A person halves the orange learning rate of a one-cycle sheet: every epoch's rate follows, and each step still
    agrees with Python's from the sheet's settings."""
    path = books[f"momentum-{SCHEDULED_CASE}"]
    layout = [a for a in _layouts(path) if a.name == "train_nnet"][0]
    book = openpyxl.load_workbook(path)
    row, col = layout.settings["lr"]
    lr = book["train_nnet"].cell(row, col + 1).value
    book["train_nnet"].cell(row, col + 1).value = lr / 2
    edited = tmp_path / "halved.xlsx"
    book.save(edited)
    (out,) = recalculate([edited], tmp_path / "out")
    report = compare(read_contents(edited), out)
    (nnet,) = [t for t in report.training if t.sheet == "train_nnet"]
    assert nnet.ok, nnet.first_mismatch
    values = openpyxl.load_workbook(out, data_only=True, read_only=True)["train_nnet"]
    rates = [values.cell(layout.top(k), layout.schedule_cols["rate"] + 1).value for k in range(1, EPOCHS + 1)]
    np.testing.assert_allclose(rates, [tn.training.OneCycle().rate(lr / 2, k, EPOCHS) for k in range(1, EPOCHS + 1)], rtol=1e-12)


def test_a_weight_decayed_in_part_is_written_with_its_mask(titanic, tmp_path, monkeypatch):
    """An op may decay its parameter in part (an embedding table all but its unseen-level row): the training sheet's
    update and the model sheet's penalty then carry the mask as a constant array, and every engine agrees."""
    from titanic_nn.nn import MatMul

    def all_but_the_last_row(self, shape):
        mask = np.ones(shape)
        mask[-1] = 0.0
        return mask

    monkeypatch.setattr(MatMul, "decays", all_but_the_last_row)
    train, _ = titanic
    features = tn.Features().fit(train)
    model = tn.MatMulNet(hidden=2, head="linear")
    X, y = features.transform(train, training=True), features.target(train)
    fitted = tn.FittedModel(features, model, model.init(X.shape[1], seed=3), "part", {"method": "solver", "settings": {"wd": 0.2}})
    path = tn.write_workbook(tmp_path / "part.xlsx", [fitted], train, training=tn.SheetTraining(10, "sgd", 0.1))
    layout = _layouts(path)[0]
    assert layout.descent.wd == 0.2  # the wd the model trained with
    top, left, _, _ = layout.block(2, "next", 0)
    assert ";0,0}" in openpyxl.load_workbook(path)["train_part"].cell(top, left + 1).value.text
    report = tn.verify(path, engines="all")
    assert report.ok, str(report)
    assert all(sheet.ok for engine in report.engines for sheet in engine.training)
    history = tn.training.Stepper(model, X, y, layout.descent).run(model.arrays(fitted.params), 1)
    untouched = model.arrays(fitted.params)[0][-1] - 0.1 * history[0].grads[0][-1]
    np.testing.assert_allclose(history[0].next_params[0][-1], untouched, rtol=1e-15)
