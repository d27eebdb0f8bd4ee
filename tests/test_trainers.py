"""The trainers: hand-derived gradients against autograd, the targets on the bundled data, divergence."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

import titanic_nn as tn
from titanic_nn.training import GD_DEFAULTS, Objective, autograd_loss_and_grad

from gradients import assert_matches_autograd, batch

torch = pytest.importorskip("torch")

LEAST_SQUARES = 0.14422714930  # the lesson's linear optimum (Excel Solver's too)
EXCEL_NNET = 0.14315  # where Excel's Solver stopped on the two-ReLU sheet

MODELS = {
    "linear": lambda: tn.Linear(),
    "nnet": lambda: tn.TwoReLU(),
    "mmult": lambda: tn.MatMulNet(hidden=2),
    "mmult-1": lambda: tn.MatMulNet(hidden=1),
    "mmult-3": lambda: tn.MatMulNet(hidden=3),
    "deeper": lambda: tn.MatMulNet(layers=[4, 3]),
    "linear-head": lambda: tn.MatMulNet(hidden=3, head="linear"),
    "deeper-linear-head": lambda: tn.MatMulNet(layers=[3, 2], head="linear"),
    "linear-sigmoid-mse": lambda: tn.Linear(output="sigmoid"),
    "linear-sigmoid-logloss": lambda: tn.Linear(output="sigmoid", loss="logloss"),
    "nnet-sigmoid-mse": lambda: tn.TwoReLU(output="sigmoid"),
    "nnet-sigmoid-logloss": lambda: tn.TwoReLU(output="sigmoid", loss="logloss"),
    "deeper-sigmoid-logloss": lambda: tn.MatMulNet(layers=[4, 2], head="linear", output="sigmoid", loss="logloss"),
}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_hand_derived_gradients_equal_autograd(name, backend, lesson_xy):
    _, X, y = lesson_xy
    assert_matches_autograd(MODELS[name](), X, y, backend=backend)


def test_each_fast_kernel_is_the_one_expected(lesson_xy):
    _, X, y = lesson_xy
    kernel = lambda model, **kw: Objective(model, X, y, **kw).kernel  # noqa: E731
    assert kernel(tn.Linear(), backend="torch") == "gram"
    assert kernel(tn.TwoReLU(), backend="torch") == "fused"
    assert kernel(tn.Linear(output="sigmoid"), backend="torch") == "fused"
    assert kernel(tn.MatMulNet(layers=[3, 2]), backend="torch") == "generic"
    assert kernel(tn.TwoReLU(), backend="torch", gradient="autograd") == "autograd"


@pytest.mark.parametrize("name", ["linear", "nnet", "deeper-sigmoid-logloss"])
def test_gd_with_autograd_follows_the_same_path(name, lesson_xy):
    _, X, y = lesson_xy
    model = MODELS[name]()
    runs = [
        tn.fit_gd(model, X, y, epochs=30, restarts=2, dtype="float64", gradient=g, device="cpu", progress=False)
        for g in ("fast", "autograd")
    ]
    np.testing.assert_allclose(model.flatten(runs[0].params), model.flatten(runs[1].params), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(runs[0].history["train"], runs[1].history["train"], rtol=1e-9)


# -- the targets on the bundled data, with the documented defaults ------------------------------


def test_solver_reaches_the_least_squares_optimum(lesson_xy):
    _, X, y = lesson_xy
    result = tn.fit_solver(tn.Linear(), X, y, progress=False)
    assert abs(result.loss - LEAST_SQUARES) < 1e-8
    assert result.converged and result.iterations > 0 and result.nfev >= result.iterations
    assert len(result.start_losses) == tn.Linear().solver_defaults["restarts"] == 1
    assert result.loss == pytest.approx(min(result.start_losses), abs=1e-15)
    # the normal equations give the same optimum
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(result.params, w, atol=1e-4)


def test_gd_gets_within_one_percent_of_the_linear_optimum(lesson_xy):
    _, X, y = lesson_xy
    result = tn.fit_gd(tn.Linear(), X, y, device="cpu", progress=False)
    assert LEAST_SQUARES <= result.loss < 1.01 * LEAST_SQUARES
    assert len(result.history["train"]) == GD_DEFAULTS["epochs"]


@pytest.fixture(scope="module")
def solver_nets(lesson_xy):
    _, X, y = lesson_xy
    return {kind: tn.fit_solver(MODELS[kind](), X, y, progress=False) for kind in ("nnet", "mmult")}


@pytest.mark.parametrize("kind", ["nnet", "mmult"])
def test_solver_beats_excel_on_the_two_relu_net(kind, solver_nets):
    result = solver_nets[kind]
    assert result.loss <= 0.1330 < EXCEL_NNET
    assert result.settings["method"] == "TNC" and len(result.start_losses) == 20
    assert np.isfinite(result.params).all() and result.params.shape == (10, 2)


@pytest.mark.parametrize("kind", ["nnet", "mmult"])
def test_gd_defaults_get_within_three_percent_of_the_solver(kind, solver_nets, lesson_xy):
    _, X, y = lesson_xy
    result = tn.fit_gd(MODELS[kind](), X, y, device="cpu", progress=False)
    assert result.loss <= 1.03 * solver_nets[kind].loss
    assert len(result.start_losses) == GD_DEFAULTS["restarts"]


def test_nnet_and_mmult_train_to_the_same_parameters(lesson_xy):
    _, X, y = lesson_xy
    a = tn.fit_gd(tn.TwoReLU(), X, y, epochs=100, restarts=3, device="cpu", progress=False)
    b = tn.fit_gd(tn.MatMulNet(hidden=2), X, y, epochs=100, restarts=3, device="cpu", progress=False)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(tn.TwoReLU().predict(X, a.params), tn.MatMulNet(hidden=2).predict(X, a.params))


@pytest.mark.parametrize("loss", ["mse", "logloss"])
@pytest.mark.parametrize("method", ["gd", "solver"])
@pytest.mark.parametrize("kind", ["linear", "linear-head"])
def test_the_sigmoid_path_trains(kind, loss, method, lesson_xy):
    # (a sum of ReLUs is never negative, so under a sigmoid it never predicts below 0.5: a linear head it is)
    _, X, y = lesson_xy
    model = tn.Linear(output="sigmoid", loss=loss) if kind == "linear" else tn.MatMulNet(2, head="linear", output="sigmoid", loss=loss)
    start = model.init(X.shape[1], seed=0)
    metric = tn.log_loss if loss == "logloss" else tn.mse
    before = metric(model.predict(X, start), y)
    if method == "gd":
        result = tn.fit_gd(model, X, y, epochs=500, lr=0.05, init=start, device="cpu", progress=False)
    else:
        result = tn.fit_solver(model, X, y, progress=False)  # the default starts: one can end with a dead unit
    assert result.loss == pytest.approx(metric(model.predict(X, result.params), y), rel=1e-12)
    assert result.loss < 0.8 * before
    assert result.loss < (0.45 if loss == "logloss" else 0.145)
    assert tn.accuracy(model.predict(X, result.params), y) > 0.78


# -- behaviour ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("trainer", ["gd", "solver"])
def test_same_seed_same_result_other_seed_other_starts(trainer, lesson_xy):
    _, X, y = lesson_xy
    fit = (
        (lambda s: tn.fit_gd(tn.TwoReLU(), X, y, epochs=50, restarts=3, seed=s, device="cpu", progress=False))
        if trainer == "gd"
        else (lambda s: tn.fit_solver(tn.TwoReLU(), X, y, restarts=3, seed=s, progress=False))
    )
    a, b, c = fit(4), fit(4), fit(5)
    np.testing.assert_array_equal(a.params, b.params)
    assert a.loss == b.loss and a.start_losses == b.start_losses
    assert a.start_losses != c.start_losses


def test_gd_records_train_and_valid_history(lesson_xy):
    _, X, y = lesson_xy
    result = tn.fit_gd(
        tn.TwoReLU(), X[:500], y[:500], epochs=120, restarts=2, valid=(X[500:], y[500:]), device="cpu", progress=False
    )
    assert set(result.history) == {"train", "valid"}
    assert len(result.history["train"]) == len(result.history["valid"]) == 120
    assert result.history["train"][-1] < result.history["train"][0]
    assert result.valid_loss == pytest.approx(tn.mse(tn.TwoReLU().predict(X[500:], result.params), y[500:]))
    assert result.seconds > 0 and result.device == "cpu"
    record = result.record()
    assert json.loads(json.dumps(record)) == record


def _reference_steps(name: str, settings: dict, p: np.ndarray, grads: list[np.ndarray], lr: float) -> np.ndarray:
    """Each optimiser's update, written here from the formulas of ../shared/reference/fastai-tabular.md (fastai's
    names: mom, sqr_mom) and the lesson's plain and heavy-ball loops, independently of the package."""
    grad_avg, sqr_avg, velocity = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for step, g in enumerate(grads, start=1):
        if name == "sgd":
            p = p - lr * g
        elif name == "momentum":
            velocity = settings["momentum"] * velocity + g
            p = p - lr * velocity
        elif name == "adam":
            mom, sqr_mom, eps = settings["beta1"], settings["beta2"], settings["eps"]
            grad_avg = mom * grad_avg + (1 - mom) * g
            sqr_avg = sqr_mom * sqr_avg + (1 - sqr_mom) * g**2
            p = p - lr / (1 - mom**step) * grad_avg / (np.sqrt(sqr_avg / (1 - sqr_mom**step)) + eps)
        elif name == "rmsprop":
            sqr_mom, eps = settings["beta2"], settings["eps"]
            sqr_avg = sqr_mom * sqr_avg + (1 - sqr_mom) * g**2
            p = p - lr * g / (np.sqrt(sqr_avg) + eps)
    return p


REFERENCE_SETTINGS = {
    "sgd": {}, "momentum": {"momentum": 0.8}, "adam": {"beta1": 0.9, "beta2": 0.99, "eps": 1e-5},
    "rmsprop": {"beta2": 0.99, "eps": 1e-8},
}


@pytest.mark.parametrize("name", list(tn.training.OPTIMIZERS))
def test_every_optimizer_steps_as_the_reference_formulas(name):
    """Three updates of each optimiser of the registry against the reference written above (fastai's defaults where
    fastai has them: RMSprop's are its own)."""
    assert set(REFERENCE_SETTINGS) == set(tn.training.OPTIMIZERS)  # a new optimiser needs its reference here
    rng = np.random.default_rng(4)
    p0, grads = rng.normal(size=5), [rng.normal(size=5) for _ in range(3)]
    rule = tn.training.make_optimizer(name, 0.05, **REFERENCE_SETTINGS[name])
    if name == "rmsprop":
        assert (rule.beta2, rule.eps) == (0.99, 1e-8)  # fastai's defaults when none is given
        assert tn.training.make_optimizer(name, 0.05) == rule
    p, state = p0, {key: np.zeros_like(p0) for key in rule.states}
    for t, g in enumerate(grads, start=1):
        p, state = rule.step(p, g, state, t)
    np.testing.assert_allclose(p, _reference_steps(name, REFERENCE_SETTINGS[name], p0, grads, 0.05), rtol=1e-14)


@pytest.mark.parametrize("optimizer", list(tn.training.OPTIMIZERS))
def test_every_optimizer_lowers_the_loss(optimizer, lesson_xy):
    _, X, y = lesson_xy
    result = tn.fit_gd(tn.Linear(), X, y, lr=0.01, epochs=200, restarts=2, optimizer=optimizer, device="cpu", progress=False)
    assert result.loss < 0.5 * result.history["train"][0]


def test_plain_gd_is_the_lesson_update(lesson_xy):
    _, X, y = lesson_xy
    model = tn.Linear()
    w0 = model.init(X.shape[1], seed=9)
    result = tn.fit_gd(model, X, y, lr=0.05, epochs=3, optimizer="sgd", init=w0, dtype="float64", device="cpu", progress=False)
    w = w0.copy()
    for _ in range(3):
        w = w - 0.05 * 2 / len(X) * X.T @ (X @ w - y)
    np.testing.assert_allclose(result.params, w, rtol=1e-12)


@pytest.mark.parametrize(
    "name, message",
    [
        ("linear", r"became NaN or infinite at epoch \d+ of 300 \(lr=50\); use a smaller learning rate"),
        # ReLU nets die rather than blow up: every unit switched off, a constant output, no gradient
        ("nnet", r"from epoch \d+ on every row gets the same prediction .* use a smaller learning rate"),
        ("deeper", r"from epoch \d+ on every row gets the same prediction"),
    ],
)
def test_a_too_large_learning_rate_raises_naming_the_epoch(name, message, lesson_xy):
    _, X, y = lesson_xy
    with pytest.raises(tn.TrainingDivergedError, match=message) as caught:
        tn.fit_gd(MODELS[name](), X, y, lr=50.0, epochs=300, restarts=2, optimizer="sgd", device="cpu", progress=False)
    assert "\n" not in str(caught.value)


def test_a_loss_ending_ten_times_above_its_start_is_divergence(lesson_xy):
    _, X, y = lesson_xy
    # Adam's steps are about lr in size whatever the gradient: a big lr throws the weights far but finite
    with pytest.raises(tn.TrainingDivergedError, match="above 10 times its start from epoch"):
        tn.fit_gd(tn.Linear(), X, y, lr=30.0, epochs=5, restarts=1, device="cpu", progress=False)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda X, y: tn.fit_gd(tn.Linear(), X, y, lr=-1, progress=False), "positive number"),
        (lambda X, y: tn.fit_gd(tn.Linear(), X, y, optimizer="lamb", progress=False), "optimizer must be"),
        (lambda X, y: tn.fit_gd(tn.Linear(), X, y, device="tpu", progress=False), "device"),
        (lambda X, y: tn.fit_gd(tn.Linear(), X, y[:-1], progress=False), "one target per row"),
        (lambda X, y: tn.fit_gd(tn.Linear(), X, y, init=np.zeros(3), progress=False), "needs parameters of shapes"),
        (lambda X, y: tn.fit_solver(tn.Linear(), X, y, method="nope", restarts=1, progress=False), "no method"),
        (lambda X, y: tn.fit_solver(tn.Linear(), np.where(X > 0.9, np.nan, X), y, progress=False), "NaN"),
    ],
)
def test_bad_calls_say_what_to_fix(call, message, lesson_xy):
    _, X, y = lesson_xy
    with pytest.raises(tn.TitanicNNError, match=message):
        call(X, y)


def test_cuda_refused_cleanly_without_a_gpu(lesson_xy):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    _, X, y = lesson_xy
    with pytest.raises(tn.TitanicNNError, match="no CUDA GPU"):
        tn.fit_gd(tn.Linear(), X, y, device="cuda", progress=False)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["linear", "nnet", "deeper-sigmoid-logloss"])
def test_gd_runs_unchanged_on_cuda(name, lesson_xy):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here")
    _, X, y = lesson_xy
    model = MODELS[name]()
    options = dict(epochs=200, restarts=4, dtype="float64", progress=False)
    gpu = tn.fit_gd(model, X, y, device="cuda", **options)
    cpu = tn.fit_gd(model, X, y, device="cpu", **options)
    assert gpu.device.startswith("cuda")
    assert gpu.loss == pytest.approx(cpu.loss, rel=1e-6)
    np.testing.assert_allclose(model.flatten(gpu.params), model.flatten(cpu.params), rtol=1e-5, atol=1e-7)
    # the fast gradients match autograd on the GPU too
    tensors = [torch.tensor(a, device="cuda") for a in batch(model, X.shape[1], seeds=[1, 2])]
    Xg, yg = torch.tensor(X, device="cuda"), torch.tensor(y, device="cuda")
    _, ref = autograd_loss_and_grad(model, Xg, yg, tensors)
    _, got = Objective(model, X, y, backend="torch", device=torch.device("cuda")).loss_and_grad(tensors)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g.cpu().numpy(), r.cpu().numpy(), rtol=1e-9, atol=1e-13)


def test_solver_with_autograd_agrees_with_numpy(lesson_xy):
    _, X, y = lesson_xy
    model = tn.MatMulNet(hidden=2, head="linear")
    start = model.init(X.shape[1], seed=2)
    # L-BFGS-B's path is smooth in its inputs, so equal gradients give equal paths (TNC's truncated
    # Newton steps amplify 1e-16 differences)
    a = tn.fit_solver(model, X, y, init=start, maxiter=30, method="L-BFGS-B", progress=False)
    b = tn.fit_solver(model, X, y, init=start, maxiter=30, method="L-BFGS-B", gradient="autograd", progress=False)
    assert a.loss == pytest.approx(b.loss, rel=1e-8)


# -- progress ---------------------------------------------------------------------------------------------


def test_progress_writes_plain_lines_off_a_terminal_and_nothing_when_off():
    out = io.StringIO()
    with tn.Progress(100, label="gd epochs", stream=out) as bar:
        for i in range(1, 101):
            bar.update(i, loss=0.5)
    lines = out.getvalue().splitlines()
    assert 1 <= len(lines) <= 3 and lines[-1].startswith("gd epochs 100/100 (100%) loss 0.5")
    silent = io.StringIO()
    with tn.Progress(10, stream=silent, enabled=False) as bar:
        bar.update(10)
    assert silent.getvalue() == ""


def test_progress_draws_a_bar_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    with tn.Progress(4, label="solver starts", stream=out, interval=0) as bar:
        for i in range(1, 5):
            bar.update(i)
    text = out.getvalue()
    assert text.count("\r[") == 4 and "[" + "#" * 30 + "]" in text and text.endswith("\n")


def test_trainers_report_progress_on_stderr(lesson_xy, capsys):
    _, X, y = lesson_xy
    tn.fit_gd(tn.Linear(), X, y, epochs=20, restarts=1, device="cpu")
    tn.fit_solver(tn.Linear(), X, y, restarts=2)
    err = capsys.readouterr().err
    assert "gd epochs 20/20" in err and "solver starts 2/2" in err
    tn.fit_gd(tn.Linear(), X, y, epochs=20, restarts=1, device="cpu", progress=False)
    assert capsys.readouterr().err == ""


# -- the split and train_model -----------------------------------------------------------------------------


def test_train_valid_split_is_a_seeded_partition():
    train, valid = tn.train_valid_split(712, 0.2, seed=3)
    assert len(valid) == 142 and len(train) == 570
    np.testing.assert_array_equal(np.sort(np.concatenate([train, valid])), np.arange(712))
    again = tn.train_valid_split(712, 0.2, seed=3)
    np.testing.assert_array_equal(valid, again[1])
    assert not np.array_equal(valid, tn.train_valid_split(712, 0.2, seed=4)[1])
    train, valid = tn.train_valid_split(712, 0, seed=3)  # 0: nothing held out
    assert train.tolist() == list(range(712)) and valid.tolist() == []


@pytest.mark.parametrize(
    "n_rows, frac, message",
    [(100, -0.1, "between 0 and 1"), (100, 1.0, "between 0 and 1"), (3, 0.1, "no validation rows"), (3, 0.9, "no training rows")],
)
def test_train_valid_split_refuses_an_empty_side(n_rows, frac, message):
    with pytest.raises(tn.TitanicNNError, match=message):
        tn.train_valid_split(n_rows, frac)


@pytest.mark.parametrize("method", ["gd", "solver"])
def test_train_model_records_plain_json_values(method, titanic):
    train, _ = titanic
    options = {"epochs": 100, "restarts": 2, "device": "cpu"} if method == "gd" else {"restarts": 2}
    fitted = tn.train_model(train, tn.TwoReLU(), method=method, seed=1, **options)
    t = fitted.training
    assert json.loads(json.dumps(t)) == t
    split = dict(t["split"])
    valid_rows = split.pop("valid_rows")
    assert t["method"] == method and split == {"valid_frac": 0.2, "seed": 1, "n_train": 570, "n_valid": 142}
    assert valid_rows == tn.train_valid_split(712, 0.2, seed=1)[1].tolist()  # the rows the workbook marks Valid
    for key in ("loss", "train_loss", "valid_loss", "train_accuracy", "valid_accuracy", "seconds"):
        assert isinstance(t[key], float)
    assert 0.6 < t["valid_accuracy"] <= 1.0 and t["train_loss"] == pytest.approx(t["loss"])
    if method == "gd":
        assert len(t["history"]["train"]) == len(t["history"]["valid"]) == 100
    else:
        assert {"iterations", "nfev", "converged", "start_losses"} <= set(t) and len(t["start_losses"]) == 2
    assert fitted.name == "nnet" and fitted.predict(train).shape == (891,)


def test_train_model_without_a_split_trains_on_every_kept_row(titanic):
    train, _ = titanic
    for valid_frac in (None, 0, 0.0):
        fitted = tn.train_model(train, tn.Linear(), valid_frac=valid_frac, restarts=1)
        assert fitted.training["split"]["n_train"] == 712 and fitted.training["valid_loss"] is None
        assert fitted.training["split"]["valid_rows"] == []
        assert abs(fitted.training["loss"] - LEAST_SQUARES) < 1e-8


def test_gd_trains_a_small_problem_on_one_thread_and_restores_the_callers_setting(lesson_xy):
    import torch

    _, X, y = lesson_xy
    before = torch.get_num_threads()
    set_to = 2 if before != 2 else 3
    torch.set_num_threads(set_to)
    seen = []
    original = torch.set_num_threads
    try:
        torch.set_num_threads = lambda n: (seen.append(n), original(n))[1]
        result = tn.fit_gd(tn.MatMulNet(hidden=2), X, y, epochs=5, restarts=4, progress=False)
        assert result.threads == 1 and result.record()["threads"] == 1
        assert seen == [1, set_to]  # one thread while training, then the caller's count again
        assert torch.get_num_threads() == set_to
        seen.clear()
        assert tn.fit_gd(tn.Linear(), X, y, epochs=5, threads=set_to, progress=False).threads == set_to
        assert seen == []  # asked for the count already set: nothing to change
        with pytest.raises(tn.TrainingDivergedError):  # restored on the way out of an error too
            tn.fit_gd(tn.TwoReLU(), X, y, lr=1e6, epochs=60, restarts=1, progress=False)
        assert torch.get_num_threads() == set_to
    finally:
        torch.set_num_threads = original
        torch.set_num_threads(before)


def test_thread_choice_follows_the_size_of_the_problem():
    from titanic_nn.training import SMALL_WORK, choose_threads

    assert choose_threads(712 * 20 * 32, current=2) == 1  # the lesson's problem: one thread
    assert choose_threads(1_000_000 * 20, current=2) == 1  # a million rows of the lesson's net
    assert choose_threads(SMALL_WORK * 4, current=2) == 2  # large: the caller's count
    assert choose_threads(SMALL_WORK * 4, current=8) == 8
    with pytest.raises(tn.TitanicNNError, match="threads must be a whole number"):
        tn.fit_gd(tn.Linear(), np.ones((3, 2)), np.zeros(3), threads=0)


# -- weight decay and the schedules, against fastai's formulas written here -----------------------------------------


def _biases(model) -> set[int]:
    """The arrays fastai leaves undecayed: those the program adds as biases."""
    return {op.param for op in model.program() if isinstance(op, tn.nn.AddBias)}


def _registry_models():
    """Every kind of the registry, as built by default and with a sigmoid output (the nets then end in a bias)."""
    return [(kind, options) for kind in tn.nn.MODELS for options in ({}, {"output": "sigmoid", "loss": "logloss"})]


@pytest.mark.parametrize("kind, options", _registry_models(), ids=lambda v: v if isinstance(v, str) else str(v.get("output", "raw")))
@pytest.mark.parametrize("gradient", ["numpy", "autograd"])
def test_the_l2_penalty_and_its_gradient_equal_autograd(kind, options, gradient, lesson_xy):
    """fit_solver's objective with wd is the loss plus wd/2 * the sum of the squared weights, biases left out: its value
    and gradient against torch autograd of that sum written here."""
    from titanic_nn.training._solver import _flat_objective
    from titanic_nn.training._objective import _mean_loss

    _, X, y = lesson_xy
    model, wd = tn.build_model(kind, **options), 0.37
    flat = model.flatten(model.init(X.shape[1], seed=5))
    value, grad = _flat_objective(model, X, y, gradient, wd)(flat)
    leaves = [torch.tensor(a).requires_grad_(True) for a in model.arrays(model.unflatten(flat, X.shape[1]))]
    biases = _biases(model)
    loss = _mean_loss(model, torch.tensor(X), torch.tensor(y), [leaf[None] for leaf in leaves])[0]
    penalty = wd / 2 * sum((leaf**2).sum() for i, leaf in enumerate(leaves) if i not in biases)
    (loss + penalty).backward()
    expected = np.concatenate([leaf.grad.numpy().reshape(-1) for leaf in leaves])
    assert value == pytest.approx(float((loss + penalty).detach()), rel=1e-12)
    np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-13)
    assert not any(model.decay_masks(X.shape[1])[i].any() for i in biases)


def test_some_registry_model_has_a_bias_left_undecayed():
    assert any(_biases(tn.build_model(kind, **options)) for kind, options in _registry_models())


def test_the_decoupled_step_is_the_reference_one():
    """One step: p * (1 - lr * wd) before the optimiser's step, at the step's rate; a bias is not decayed."""
    rng = np.random.default_rng(2)
    model = tn.MatMulNet(hidden=2, head="linear")
    arrays = model.arrays(model.init(3, seed=1))
    grads = [rng.normal(size=a.shape) for a in arrays]
    descent = tn.training.Descent(tn.training.make_optimizer("sgd", 0.1), 10, tn.training.OneCycle(), wd=0.5)
    rule = descent.at(1)
    assert rule.lr == pytest.approx(0.1 / 25, rel=1e-15)
    masks = model.decay_masks(3)
    stepped = [descent.step(rule, a, g, {}, 1, m)[0] for a, g, m in zip(arrays, grads, masks)]
    for i, (a, g, new) in enumerate(zip(arrays, grads, stepped)):
        decayed = a if i in _biases(model) else a * (1 - rule.lr * 0.5)
        np.testing.assert_array_equal(new, decayed - rule.lr * g)


def _one_cycle(step: int, steps: int, lr: float, div=25.0, div_final=1e5, pct=0.25, moms=(0.95, 0.85, 0.95)):
    """fastai's fit_one_cycle at step `step` (1-based) of `steps`: (rate, momentum), from fastai-tabular.md."""
    pos = (step - 1) / steps

    def cos(a, b, t):
        return a + (1 + np.cos(np.pi * (1 - t))) * (b - a) / 2

    if pos < pct:
        t = pos / pct
        return cos(lr / div, lr, t), cos(moms[0], moms[1], t)
    t = (pos - pct) / (1 - pct)
    return cos(lr, lr / div_final, t), cos(moms[1], moms[2], t)


def test_the_one_cycle_schedule_is_fastais():
    schedule = tn.training.SCHEDULES["one-cycle"]()
    assert (schedule.div, schedule.div_final, schedule.pct_start, schedule.moms) == (25, 1e5, 0.25, (0.95, 0.85, 0.95))
    for steps in (1, 4, 7, 20, 101):
        for step in range(1, steps + 1):
            rate, mom = _one_cycle(step, steps, 0.3)
            assert schedule.rate(0.3, step, steps) == pytest.approx(rate, rel=1e-14)
            assert schedule.momentum(step, steps) == pytest.approx(mom, rel=1e-14)
    assert schedule.rate(0.3, 1, 20) == pytest.approx(0.3 / 25) and schedule.rate(0.3, 6, 20) == pytest.approx(0.3)
    assert schedule.momentum(6, 20) == pytest.approx(0.85)
    assert tn.training.SCHEDULES["constant"]().rate(0.3, 7, 20) == 0.3


def _reference_descent(name, settings, schedule, wd, arrays, biases, X, y, model, epochs, lr):
    """`epochs` full-batch steps written from fastai-tabular.md: decay (not the biases) at the step's rate, then the
    optimiser's update at that rate and momentum (fastai's mom: heavy-ball momentum, Adam's beta1); the gradient is
    autograd's at the parameters before the step."""
    p = [a.copy() for a in arrays]
    grad_avg, sqr_avg, velocity = ([np.zeros_like(a) for a in p] for _ in range(3))
    for step in range(1, epochs + 1):
        _, grads = autograd_loss_and_grad(model, torch.tensor(X), torch.tensor(y), [torch.tensor(a[None]) for a in p])
        grads = [g[0].numpy() for g in grads]
        rate, mom = _one_cycle(step, epochs, lr) if schedule == "one-cycle" else (lr, None)
        for i, g in enumerate(grads):
            if i not in biases:
                p[i] = p[i] * (1 - rate * wd)
            if name == "sgd":
                p[i] = p[i] - rate * g
            elif name == "momentum":
                velocity[i] = (settings["momentum"] if mom is None else mom) * velocity[i] + g
                p[i] = p[i] - rate * velocity[i]
            elif name == "adam":
                beta1 = settings["beta1"] if mom is None else mom
                sqr_mom, eps = settings["beta2"], settings["eps"]
                grad_avg[i] = beta1 * grad_avg[i] + (1 - beta1) * g
                sqr_avg[i] = sqr_mom * sqr_avg[i] + (1 - sqr_mom) * g**2
                p[i] = p[i] - rate / (1 - beta1**step) * grad_avg[i] / (np.sqrt(sqr_avg[i] / (1 - sqr_mom**step)) + eps)
            elif name == "rmsprop":
                sqr_mom, eps = settings["beta2"], settings["eps"]
                sqr_avg[i] = sqr_mom * sqr_avg[i] + (1 - sqr_mom) * g**2
                p[i] = p[i] - rate * g / (np.sqrt(sqr_avg[i]) + eps)
    return p


@pytest.mark.parametrize("wd", [0.0, 0.3])
@pytest.mark.parametrize("schedule", list(tn.training.SCHEDULES))
@pytest.mark.parametrize("name", list(tn.training.OPTIMIZERS))
def test_fit_gd_steps_as_the_reference_under_every_schedule_and_decay(name, schedule, wd, lesson_xy):
    """fit_gd in float64, epoch by epoch, against the loop written above, for each optimiser and schedule of the
    registries, with and without weight decay, on a net whose head has a bias."""
    assert set(tn.training.SCHEDULES) == {"constant", "one-cycle"}  # a new schedule needs its reference here
    _, X, y = lesson_xy
    X, y = X[:200], y[:200]
    model, epochs, lr = tn.MatMulNet(hidden=2, head="linear"), 12, 0.05
    start = model.init(X.shape[1], seed=3)
    settings = REFERENCE_SETTINGS[name]
    betas = (settings["beta1"], settings["beta2"]) if name == "adam" else (None, settings["beta2"]) if name == "rmsprop" else None
    result = tn.fit_gd(
        model, X, y, lr=lr, epochs=epochs, optimizer=name, momentum=settings.get("momentum"), betas=betas,
        eps=settings.get("eps"), wd=wd, schedule=schedule, init=start, dtype="float64", device="cpu",
        gradient="autograd", progress=False,
    )
    assert _biases(model) == {2}
    expected = _reference_descent(name, settings, schedule, wd, model.arrays(start), _biases(model), X, y, model, epochs, lr)
    for got, want in zip(model.arrays(result.params), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert result.settings["wd"] == wd and result.settings["schedule"] == schedule
    # and the float64 numpy Stepper a training sheet is written from takes the same steps
    descent = tn.training.Descent(
        tn.training.make_optimizer(name, lr, **settings), epochs, tn.training.make_schedule(schedule), wd
    )
    history = tn.training.Stepper(model, X, y, descent).run(model.arrays(start), epochs)
    for got, want in zip(history[-1].next_params, expected):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-14)


def test_weight_decay_shrinks_the_weights_and_not_the_bias(lesson_xy):
    _, X, y = lesson_xy
    model = tn.MatMulNet(hidden=2, head="linear")
    plain, decayed = (
        tn.fit_solver(model, X, y, wd=wd, restarts=1, seed=1, progress=False) for wd in (0.0, 0.05)
    )
    norms = [sum(float((a**2).sum()) for a in model.arrays(r.params)[:2]) for r in (plain, decayed)]
    assert norms[1] < norms[0] and decayed.loss > plain.loss
    assert decayed.settings["wd"] == 0.05 and plain.settings["wd"] == 0.0
    with pytest.raises(tn.TitanicNNError, match=r"^wd must be a number between 0 and"):
        tn.fit_gd(model, X, y, wd=-0.1, progress=False)
    with pytest.raises(tn.TitanicNNError, match="schedule must be one of constant, one-cycle, not 'cosine'"):
        tn.fit_gd(model, X, y, schedule="cosine", progress=False)
