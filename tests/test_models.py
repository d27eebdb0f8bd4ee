"""The models: their formulas, parameter layouts and configs, in numpy and torch, for every kind."""

from __future__ import annotations

import numpy as np
import pytest

import titanic_nn as tn

RNG = np.random.default_rng(7)
X = np.column_stack([RNG.uniform(-1, 1, size=(40, 4)), np.ones(40)])

MODELS = {
    "linear": tn.Linear(),
    "linear-sigmoid": tn.Linear(output="sigmoid"),
    "nnet": tn.TwoReLU(),
    "mmult": tn.MatMulNet(hidden=2),
    "mmult-3": tn.MatMulNet(hidden=3),
    "deeper": tn.MatMulNet(layers=[3, 2]),
    "linear-head": tn.MatMulNet(hidden=3, head="linear"),
    "deeper-logloss": tn.MatMulNet(layers=[4, 2], head="linear", output="sigmoid", loss="logloss"),
}


def relu(v):
    return np.maximum(v, 0.0)


def by_hand(model, X, params):
    """The formulas of the issue, written out."""
    if isinstance(model, tn.Linear):
        out = X @ params
    elif model.single_matrix:
        out = sum(relu(X @ params[:, j]) for j in range(params.shape[1]))
    else:
        values = X
        n_layers = len(model.widths)
        for W in params[:n_layers]:
            values = relu(values @ W)
        out = values @ params[n_layers] + params[n_layers + 1] if model.head == "linear" else values.sum(1)
    return 1.0 / (1.0 + np.exp(-out)) if model.output == "sigmoid" else out


@pytest.mark.parametrize("name", MODELS)
def test_predict_is_the_formula(name):
    model = MODELS[name]
    params = model.init(X.shape[1], seed=3)
    pred = model.predict(X, params)
    assert pred.dtype == np.float64 and pred.shape == (len(X),)
    np.testing.assert_allclose(pred, by_hand(model, X, params), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", MODELS)
def test_init_is_seeded_uniform_and_round_trips(name):
    model = MODELS[name]
    a, b, c = (model.init(X.shape[1], seed=s) for s in (1, 1, 2))
    flat = model.flatten(a)
    assert flat.dtype == np.float64 and flat.size == model.n_params(X.shape[1])
    assert np.all((flat >= -0.5) & (flat < 0.5))
    np.testing.assert_array_equal(flat, model.flatten(b))
    assert not np.array_equal(flat, model.flatten(c))
    again = model.unflatten(flat, X.shape[1])
    np.testing.assert_array_equal(model.predict(X, again), model.predict(X, a))
    assert [x.shape for x in model.arrays(model.from_arrays(model.arrays(a)))] == model.shapes(X.shape[1])


@pytest.mark.parametrize("name", MODELS)
def test_config_rebuilds_an_equal_model(name):
    model = MODELS[name]
    rebuilt = tn.model_from_config(model.get_config())
    assert rebuilt == model and type(rebuilt) is type(model)


@pytest.mark.parametrize("name", MODELS)
def test_torch_forward_matches_numpy_with_a_batch_of_starts(name):
    torch = pytest.importorskip("torch")
    from titanic_nn.nn import torch_backend

    model = MODELS[name]
    starts = [model.arrays(model.init(X.shape[1], seed=s)) for s in range(3)]
    tensors = [torch.tensor(np.stack([s[i] for s in starts])) for i in range(len(starts[0]))]
    out = model.forward(torch.tensor(X), tensors, torch_backend()).numpy()
    assert out.shape == (3, len(X))
    for k in range(3):
        np.testing.assert_allclose(out[k], model.predict(X, model.from_arrays(starts[k])), rtol=1e-13, atol=1e-15)


def test_two_relu_and_matmul_net_agree_on_the_same_matrix():
    W = tn.TwoReLU().init(X.shape[1], seed=5)
    assert W.shape == (X.shape[1], 2)
    nnet, mmult = tn.TwoReLU().predict(X, W), tn.MatMulNet(hidden=2).predict(X, W)
    np.testing.assert_array_equal(nnet, mmult)
    np.testing.assert_allclose(nnet, relu(X @ W[:, 0]) + relu(X @ W[:, 1]), rtol=1e-14)


def test_the_lesson_linear_coefficients_give_excels_loss():
    from titanic_nn.lesson import LESSON_LINEAR_COEFFICIENTS

    train, _ = tn.load_titanic()
    Xt, yt = tn.Features().fit_transform(train)
    assert Xt.shape == (712, 10)
    assert tn.mse(tn.Linear().predict(Xt, LESSON_LINEAR_COEFFICIENTS), yt) == pytest.approx(0.14422714930851466, abs=1e-15)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: tn.Linear(output="probit"), "output must be"),
        (lambda: tn.Linear(output="softmax"), "needs outputs of 2 or more"),
        (lambda: tn.Linear(output="softmax", outputs=3, loss="mse"), "trains with loss='crossentropy'"),
        (lambda: tn.TwoReLU(head="sum", outputs=3, output="softmax"), "3 outputs need head='linear'"),
        (lambda: tn.Linear(loss="logloss"), "needs output='sigmoid'"),
        (lambda: tn.MatMulNet(0), "hidden must be a whole number of units from 1 to 16,384"),
        (lambda: tn.MatMulNet(head="max"), "head must be"),
        (lambda: tn.model_from_config({"kind": "forest"}), "unknown model kind"),
    ],
)
def test_bad_settings_say_what_to_fix(make, message):
    with pytest.raises(tn.TitanicNNError, match=message):
        make()


def test_wrong_parameter_shapes_are_named():
    with pytest.raises(tn.TitanicNNError, match="needs parameters of shapes"):
        tn.TwoReLU().predict(X, np.zeros((X.shape[1] + 1, 2)))


def test_a_sigmoid_net_gets_a_linear_head_that_can_predict_below_one_half(lesson_xy):
    """A sum of ReLUs is never negative, so its sigmoid never falls below 0.5: the sigmoid nets end in a linear head."""
    _, X, y = lesson_xy
    for model in (tn.TwoReLU(output="sigmoid"), tn.MatMulNet(hidden=3, output="sigmoid")):
        assert model.head is None and model.effective_head == "linear"  # the setting stored as given
        fitted = tn.fit_solver(model, X, y, restarts=2, progress=False)
        pred = model.predict(X, fitted.params)
        assert (pred < 0.5).mean() > 0.4  # most passengers died: most probabilities are low
        assert fitted.loss < 0.14  # the sum head got stuck near 0.197 with hundreds of rows at exactly 0.5
        rebuilt = tn.model_from_config(model.get_config())
        assert rebuilt == model and rebuilt.effective_head == "linear"
    assert tn.TwoReLU().effective_head == "sum" and tn.TwoReLU().get_config() == {"kind": "nnet", "output": "raw", "loss": None}


def test_a_sum_of_relus_under_a_sigmoid_is_refused_but_tanh_is_allowed():
    with pytest.raises(tn.TitanicNNError, match="a sum of relu units is never negative, so its sigmoid never falls below 0.5"):
        tn.MatMulNet(head="sum", output="sigmoid")
    with pytest.raises(tn.TitanicNNError, match="use head='linear'"):
        tn.TwoReLU(head="sum", output="sigmoid")
    assert tn.MatMulNet(head="sum", output="sigmoid", activation="tanh").effective_head == "sum"
