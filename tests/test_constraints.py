"""One vocabulary of constraints: each setting's range declared once, read by the models, the trainers, the model-file
validator and the command line; and a run far beyond the machine refused with its estimate before any training."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest

import titanic_nn as tn
from titanic_nn._constraints import CONSTRAINTS, EPOCHS, HIDDEN, LAYERS, LR, MEMBERS, SEED, VALID_FRAC, Real, Whole
from titanic_nn.cli import build_parser, main
from titanic_nn.errors import InvalidModelError


def _outside(constraint) -> list:
    """Values just outside a constraint's range (and of the wrong type)."""
    if isinstance(constraint, Whole):
        return [constraint.low - 1, constraint.high + 1, 1.5, True]
    if isinstance(constraint, Real):
        below = constraint.low if constraint.low_open else constraint.low - 1e-9
        above = constraint.high if constraint.high_open else constraint.high * 2 + 1
        return [below, above, float("nan"), "1"]
    return [[], [0], [HIDDEN.high + 1], [1] * (constraint.most + 1), "4,4"]


@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_each_constraint_refuses_what_is_outside_it_in_one_line(name):
    constraint = CONSTRAINTS[name]
    for value in _outside(constraint):
        assert constraint.problem(value) is not None, value
        with pytest.raises(tn.TitanicNNError) as raised:
            constraint.check(value)
        message = str(raised.value)
        assert "\n" not in message and message.startswith(f"{constraint.name} must be "), message


def test_the_estimators_settings_are_the_declared_ones():
    """The constructors read the constraint: the largest value taken, one beyond refused, with the same words."""
    assert tn.MatMulNet(hidden=HIDDEN.high).hidden == HIDDEN.high
    for make in (lambda: tn.MatMulNet(hidden=HIDDEN.high + 1), lambda: tn.MatMulNet(layers=[4] * (LAYERS.most + 1)),
                 lambda: tn.Ensemble(tn.Linear(), MEMBERS.high + 1)):
        with pytest.raises(tn.TitanicNNError, match="must be"):
            make()
    X, y = np.ones((4, 2)), np.array([0.0, 1.0, 0.0, 1.0])
    for call in (lambda: tn.fit_gd(tn.Linear(), X, y, epochs=EPOCHS.high + 1, progress=False),
                 lambda: tn.fit_gd(tn.Linear(), X, y, lr=LR.high * 2, progress=False),
                 lambda: tn.fit_solver(tn.Linear(), X, y, seed=SEED.low - 1, progress=False),
                 lambda: tn.train_valid_split(10, VALID_FRAC.high)):
        with pytest.raises(tn.TitanicNNError, match="must be"):
            call()


def test_the_validator_reads_the_same_ranges(tmp_path):
    train, _ = tn.load_titanic()
    fitted = tn.train_model(train, tn.MatMulNet(hidden=2), restarts=1)
    path = tn.save_model(fitted, tmp_path / "m.json")
    data = json.loads(path.read_text())
    data["model"]["hidden"] = HIDDEN.high + 1
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(InvalidModelError, match=f"model.hidden is {HIDDEN.high + 1}, not {HIDDEN.describe()}"):
        tn.load_model(tmp_path / "bad.json")


@pytest.mark.parametrize("option, name", [
    ("--seed", "seed"), ("--epochs", "epochs"), ("--restarts", "restarts"), ("--hidden", "hidden"),
    ("--ensemble", "ensemble"), ("--sheet-epochs", "sheet_epochs"), ("--lr", "lr"), ("--valid-frac", "valid_frac"),
])
def test_the_parser_reads_the_same_ranges(option, name):
    constraint = CONSTRAINTS[name]
    parser = build_parser()
    top = constraint.high / 2 if getattr(constraint, "high_open", False) else constraint.high
    assert getattr(parser.parse_args(["fit", option, str(top)]), name) == top
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit):
        parser.parse_args(["fit", option, str(constraint.high * 2 + 1)])
    assert f"argument {option}:" in err.getvalue() and constraint.describe() in err.getvalue()


def _no_training(monkeypatch):
    """Training that fails the test if it ever starts."""
    import titanic_nn.training._gd as gd
    import titanic_nn.training._solver as solver

    def started(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(solver, "minimize", started, raising=False)
    import scipy.optimize

    monkeypatch.setattr(scipy.optimize, "minimize", started)
    monkeypatch.setattr(gd, "Objective", started)


@pytest.mark.parametrize("argv, says", [
    (["--seed", "-1"], "argument --seed: -1 is outside [0, 4294967295]"),
    (["--epochs", str(10**9), "--method", "gd"], "argument --epochs: 1000000000 is outside [1, 1000000]"),
    (["--restarts", str(10**9)], "argument --restarts: 1000000000 is outside [1, 10000]"),
    (["--hidden", "20000"], "argument --hidden: 20000 is outside [1, 16384]"),
    (["--layers", "16384,16384"], "training mmult by the solver would take up to"),
    (["--layers", "16384,16384", "--method", "gd"], "training mmult by gradient descent would take up to"),
])
def test_impossible_runs_are_refused_before_any_training_in_one_line(argv, says, monkeypatch, tmp_path):
    _no_training(monkeypatch)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["fit", "--quiet", "--out", str(tmp_path / "out"), *argv])
    lines = err.getvalue().splitlines()
    assert code in (1, 2) and len(lines) == 1 and says in lines[0], err.getvalue()
    assert not (tmp_path / "out").exists()  # nothing written, not even the folder


def test_the_estimate_counts_the_work_it_states():
    from titanic_nn.training import estimate_work

    work = estimate_work(tn.TwoReLU(), 712, 10, "gd", epochs=100, restarts=4)
    assert work.multiply_adds == 4 * 100 * 712 * 20 * 3 and "4 starts x 100 epochs x 712 rows x 20 parameters" in work.counted
    solver = estimate_work(tn.Ensemble(tn.Linear(), 3), 100, 10, "solver")
    assert solver.multiply_adds == 3 * (1 * 15_000) * 100 * 10 * 3 and solver.counted.startswith("3 members x ")
