"""The learning-rate finder: fastai's valley rule against one written here, the smoothing and the stop rule on known
curves, `tn.lr_find` on the bundled data, `fit_gd(lr="find")`, and `titanic-nn lr-find` / `fit --lr find`."""

from __future__ import annotations

import io
import math
import re
from contextlib import redirect_stderr, redirect_stdout
from types import SimpleNamespace

import numpy as np
import openpyxl
import pytest

import titanic_nn as tn
from titanic_nn.cli import main, plotting_available
from titanic_nn.training import Adam, Stepper, final_loss, start_seed, train_valid_split
from titanic_nn.training._lr_find import Recorder, smoothed, suggestion_index, valley


def fastai_valley(losses):
    """fastai's valley written again, another way: each point's longest strictly decreasing run ending there as
    1 + the longest of the earlier points above it; the first point of the greatest; its start that point less the
    run's length (fastai's count), or 0 when no point extends a run (fastai's start never moves then)."""
    if not losses:
        return None
    runs = []
    for i, loss in enumerate(losses):
        runs.append(1 + max([runs[j] for j in range(i) if losses[j] > loss], default=0))
    end = runs.index(max(runs))
    start = end - runs[end] if end > 0 else 0
    sections = (end - start) / 3
    return start + int(sections) + int(sections / 2)


# hand-made curves and where fastai's valley puts the suggestion (in the list given)
CURVES = {
    "a U": ([5, 4, 3, 2, 1, 2, 3], 0),  # the run 0..4: e=4, s=4-5=-1, L=5/3: -1 + 1 + 0
    "ties do not extend a run": ([3, 3, 2, 2, 1, 1, 0, 5], 3),  # strictly: 3,2,1,0 ends at 6: s=2, L=4/3: 2 + 1 + 0
    "never decreasing": ([1, 2, 3, 4, 5], 0),
    "flat": ([2, 2, 2, 2], 0),
    "a long slide, then up": ([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 4, 8], 3),  # e=9, s=-1, L=10/3: -1 + 3 + 1
    "the longest run is the later one": ([5, 4, 9, 8, 7, 6, 5, 9], 2),  # 9,8,7,6,5 ends at 6: s=1, L=5/3: 1 + 1 + 0
    "the first of equal runs": ([4, 3, 2, 1, 9, 8, 7, 6], 0),  # 4,3,2,1 ends at 3 before 9,8,7,6 at 7: -1 + 1 + 0
    "a run across a bump": ([6, 5, 9, 4, 3, 8, 2, 1], 4),  # 6,5,4,3,2,1 ends at 7: s=1, L=2: 1 + 2 + 1 = 4
}


@pytest.mark.parametrize("name", list(CURVES))
def test_the_valley_rule_on_hand_made_curves(name):
    losses, expected = CURVES[name]
    assert valley(losses) == expected
    assert fastai_valley(losses) == expected


def test_a_two_point_valley_at_the_start_suggests_its_first_point():
    """fastai's index is -1 here (s=-1, L=2/3), which its Python list would take as the last point; the valley's
    first point is meant."""
    assert fastai_valley([3, 2, 5]) == -1
    assert valley([3, 2, 5]) == 0
    assert valley([7]) == 0 and valley([]) is None


def test_the_valley_rule_equals_the_one_written_here_on_random_curves():
    rng = np.random.default_rng(21)
    for trial in range(300):
        n = int(rng.integers(1, 60))
        # small integers make ties common; smooth falls with noise make long runs
        losses = (rng.integers(0, 6, size=n) if trial % 2 else np.cumsum(rng.normal(-0.1, 1, size=n))).tolist()
        expected = fastai_valley(losses)
        assert valley(losses) == max(0, expected), losses


def test_the_suggestion_leaves_out_the_first_tenth_and_the_last_five():
    num_it = 100
    losses = [float(v) for v in range(100, 0, -1)]  # falls all the way: the valley is every kept point
    # kept: 10..94 (85 points), run of 85 from the first: e=84, s=-1, L=85/3: -1 + 28 + 14 = 41, so 10 + 41
    assert suggestion_index(losses, num_it) == 51
    # a run that stopped early keeps fewer points: 20 recorded, 10..14 kept (5 falling): e=4, s=-1, L=5/3: 0
    assert suggestion_index(losses[:20], num_it) == 10
    # too early for any: the first 10 and the last 5 are all there is
    assert suggestion_index(losses[:15], num_it) is None
    assert suggestion_index(losses[:3], num_it) is None
    # cut at the first loss that is not finite, as fastai cuts at a NaN
    spoiled = losses[:30] + [math.nan] + losses[30:40]
    assert suggestion_index(spoiled, num_it) == 10 + fastai_valley(losses[10:30])


def test_the_smoothing_is_an_average_from_zero_debiased():
    # a constant is its own smoothed value at every step: the debiasing exactly undoes the start at 0
    assert smoothed([0.7] * 50) == pytest.approx([0.7] * 50, rel=1e-14)
    # 2 then 0: avg 0.04 / 0.02 = 2; avg 0.98 * 0.04 = 0.0392, / (1 - 0.98**2) = 0.0396
    assert smoothed([2.0, 0.0]) == pytest.approx([2.0, 0.0392 / 0.0396], rel=1e-14)
    values = [3.0, 1.0, 4.0, 1.0, 5.0]
    average, expected = 0.0, []
    for count, value in enumerate(values, 1):
        average = average * 0.98 + value * 0.02
        expected.append(average / (1 - 0.98**count))
    assert smoothed(values) == pytest.approx(expected, rel=1e-14)


def test_the_test_stops_once_the_smoothed_loss_passes_four_times_its_least():
    raw = [1.0] * 10 + [0.5] * 10 + [1000.0] * 5
    recorder = Recorder()
    stops = [recorder.add(v) for v in raw]
    # the first step whose smoothed loss passes 4 times the least so far ends it, and is recorded
    curve = smoothed(raw)
    first = next(i for i in range(len(curve)) if curve[i] > 4 * min(curve[: i + 1]))
    assert first == 20
    assert stops.index(True) == first and recorder.stopped == "diverged"
    assert recorder.losses[: first + 1] == curve[: first + 1]
    # nothing before it comes near: a slow rise of under 4 times never stops it
    gentle = Recorder()
    assert not any(gentle.add(v) for v in [1.0] * 10 + [3.5] * 200)
    # a NaN ends it too; without stop_div nothing does
    assert [Recorder().add(v) for v in (1.0, math.nan)] == [False, True]
    assert not any(Recorder(stop_div=False).add(v) for v in [1.0] * 5 + [1e9, math.nan])


@pytest.fixture(scope="module")
def lesson(lesson_xy):
    _, X, y = lesson_xy
    return X, y


def test_lr_find_on_the_bundled_data(lesson):
    X, y = lesson
    model = tn.TwoReLU()
    start = model.init(X.shape[1], seed=start_seed(0, 0))
    given = start.copy()
    found = tn.lr_find(model, X, y, init=given)
    assert np.array_equal(given, start)  # what it was given is as it was
    assert found.suggestion is not None and math.isfinite(found.suggestion) and 1e-7 <= found.suggestion <= 10
    assert found.suggestion == found.rates[found.index]
    assert 100 // 10 <= found.index < found.steps - 5
    # step i's rate is 1e-7 * (10 / 1e-7) ** (i / 100)
    assert found.rates[0] == 1e-7
    assert np.allclose(found.rates, [1e-7 * 1e8 ** (i / 100) for i in range(found.steps)], rtol=1e-12, atol=0)
    # step 0's loss is the start's; step 1's the start's after one Adam step at step 0's rate
    assert found.raw_losses[0] == pytest.approx(final_loss(model, X, y, start), rel=1e-12)
    stepper = Stepper(model, X, y, Adam(lr=found.rates[0]))
    arrays = model.arrays(start)
    after = stepper.step(1, arrays, stepper.zero_states(arrays)).next_params
    assert found.raw_losses[1] == pytest.approx(final_loss(model, X, y, model.from_arrays(after)), rel=1e-12)
    assert list(found.losses) == pytest.approx(smoothed(found.raw_losses), rel=1e-14)
    # the start of seed 0 is the one it uses without init: fit_gd's start 0
    again = tn.lr_find(model, X, y, seed=0)
    assert again.losses == found.losses and again.suggestion == found.suggestion
    other = tn.lr_find(model, X, y, seed=1)
    assert other.raw_losses[0] != found.raw_losses[0]
    assert "suggestion=" in repr(found) and f"steps={found.steps} of 100" in repr(found)


def test_lr_find_stops_when_the_loss_runs_away(lesson):
    X, y = lesson
    found = tn.lr_find(tn.Linear(), X, y, optimizer="sgd")
    assert found.stopped == "diverged" and found.steps < 100
    curve = found.losses
    assert curve[-1] > 4 * min(curve) and all(curve[i] <= 4 * min(curve[: i + 1]) for i in range(found.steps - 1))
    assert found.suggestion is not None and found.suggestion < found.rates[-1]
    # without stop_div every step runs, through the overflow, warning of none of it
    whole = tn.lr_find(tn.Linear(), X, y, optimizer="sgd", stop_div=False)
    assert whole.steps == 100 and whole.losses[: found.steps] == found.losses


def test_lr_find_refuses_bad_settings_in_one_line(lesson):
    X, y = lesson
    for options, message in [
        ({"num_it": 5}, "num_it must be a whole number of steps from 6 to 100,000, not 5"),
        ({"start_lr": 0}, "start_lr must be a positive number of at most 1,000,000"),
        ({"end_lr": float("inf")}, "end_lr must be"),
        ({"start_lr": 1.0, "end_lr": 0.1}, "end_lr must be above start_lr"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"seed": -1}, "seed must be"),
    ]:
        with pytest.raises(tn.TitanicNNError, match=re.escape(message)) as raised:
            tn.lr_find(tn.Linear(), X, y, **options)
        assert "\n" not in str(raised.value)
    with pytest.raises(tn.TitanicNNError, match="members"):
        tn.lr_find(tn.Ensemble(tn.Linear(), 2), X, y)


def test_fit_gd_trains_at_the_finders_suggestion(lesson):
    pytest.importorskip("torch")
    X, y = lesson
    found = tn.lr_find(tn.TwoReLU(), X, y, optimizer="rmsprop", seed=3)
    result = tn.fit_gd(tn.TwoReLU(), X, y, lr="find", optimizer="rmsprop", seed=3, epochs=20, restarts=2, progress=False)
    assert result.settings["lr"] == found.suggestion
    assert result.settings["lr_find"] == found.record()
    assert result.settings["lr_find"]["optimizer"] == "rmsprop"
    # the same as giving that rate
    given = tn.fit_gd(tn.TwoReLU(), X, y, lr=found.suggestion, optimizer="rmsprop", seed=3, epochs=20, restarts=2,
                      progress=False)
    assert np.array_equal(given.params, result.params)


def test_a_finder_stopped_before_its_valley_says_so_in_one_line():
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)) * 1e4, rng.normal(size=50)
    # plain steps on inputs this large blow up from the first rate: no point is left to suggest from
    found = tn.lr_find(tn.Linear(), X, y, optimizer="sgd")
    assert found.suggestion is None and found.steps == 2 and found.stopped == "diverged"
    with pytest.raises(tn.TrainingDivergedError) as raised:
        tn.fit_gd(tn.Linear(), X, y, lr="find", optimizer="sgd", epochs=5, restarts=1, progress=False)
    message = str(raised.value)
    assert "\n" not in message and "the learning-rate finder found no rate" in message and "(--lr)" in message


# -- the command line ---------------------------------------------------------------------------------------------


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in argv])
    return SimpleNamespace(code=code, out=out.getvalue(), err=err.getvalue())


def suggestions(stdout: str) -> dict[str, str]:
    """lr-find's table: the suggested rate printed for each model."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:3] == ["model", "suggested", "lr"])
    return {line.split()[0]: line.split()[1] for line in lines[start + 1 : start + 4]}


def test_the_lr_find_command_prints_the_suggestion_and_draws_the_plot(tmp_path, titanic):
    result = run(["lr-find", "--out", tmp_path])
    assert result.code == 0, result.err
    printed = suggestions(result.out)
    assert list(printed) == ["linear", "nnet", "mmult"]
    # the rows fit trains on: the features of the kept rows, less the 20% held out by seed 0
    train, _ = titanic
    X, y = tn.Features().fit_transform(train)
    rows = train_valid_split(len(X), 0.2, 0)[0]
    for kind in ("linear", "nnet"):
        found = tn.lr_find(tn.build_model(kind), X[rows], y[rows], seed=0)
        assert printed[kind] == f"{found.suggestion:.3g}"
    assert printed["mmult"] == printed["nnet"]  # one program
    assert "the same program as nnet" in result.out
    assert "on the 570 training rows" in result.out
    plot = tmp_path / "lr_find.png"
    if plotting_available():
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 1000
        assert f"wrote {plot}" in result.out
    else:
        assert not plot.exists() and "lr_find.png: skipped" in result.out


def test_lr_find_takes_its_settings_and_refuses_bad_ones(tmp_path):
    result = run(["lr-find", "--model", "nnet", "--num-it", "50", "--start-lr", "1e-5", "--end-lr", "1",
                  "--optimizer", "sgd", "--out", tmp_path, "--quiet"])
    assert result.code == 0, result.err
    assert list(suggestions(result.out)) == ["nnet"]
    assert "50" in result.out.splitlines()[1].split()  # steps
    for argv, message in [
        (["--num-it", "3"], "argument --num-it: 3 is outside [6, 100000]; give a number of steps from 6 to 100,000"),
        (["--start-lr", "0"], "argument --start-lr: 0 is outside (0, 1000000]"),
        (["--start-lr", "1", "--end-lr", "0.5"], "end_lr must be above start_lr"),
        (["--epochs", "3"], "unrecognized arguments: --epochs 3"),
    ]:
        bad = run(["lr-find", "--out", tmp_path / "bad", *argv])
        assert bad.code in (1, 2) and message in bad.err, bad.err
        assert len(bad.err.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def test_fit_with_lr_find_trains_at_the_suggestion(tmp_path):
    pytest.importorskip("torch")
    found = run(["lr-find", "--out", tmp_path / "lr", "--quiet"])
    printed = suggestions(found.out)
    result = run(["fit", "--method", "gd", "--lr", "find", "--epochs", "30", "--restarts", "1", "--sheet-epochs", "2",
                  "--out", tmp_path / "fit"])
    assert result.code == 0, result.err
    for kind in ("linear", "nnet"):
        assert (f"{kind}: learning rate {printed[kind]}, the learning-rate finder's suggestion (--lr find: fastai's "
                "valley rule, 100 steps on its 570 training rows)") in result.out
        saved = tn.load_model(tmp_path / "fit" / f"{kind}.json")
        settings = saved.training["settings"]
        assert f"{settings['lr']:.3g}" == printed[kind] and settings["lr_find"]["suggestion"] == settings["lr"]
        # its training sheet starts from that rate too
        sheet = openpyxl.load_workbook(tmp_path / "fit" / "titanic.xlsx")[f"train_{kind}"]
        label = next(c for row in sheet.iter_rows(max_row=10) for c in row if c.value == "Learning rate:")
        assert sheet.cell(label.row, label.column + 1).value == settings["lr"]
    # the solver takes no learning rate: a usage error in one line
    solver = run(["fit", "--lr", "find", "--out", tmp_path / "solver"])
    assert solver.code == 2 and len(solver.err.strip().splitlines()) == 1
    assert "--lr find runs the learning-rate finder for gradient descent; the solver takes no learning rate" in solver.err


def test_the_readme_shows_what_lr_find_prints(tmp_path, monkeypatch):
    """The README's lr-find section: its commands, and the lines a real run prints after the rows' note, exactly."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Finding the learning rate"):readme.index("## The other commands")]
    assert "    titanic-nn lr-find\n    titanic-nn fit --method gd --lr find\n" in section
    shown = [line[4:] for line in section.splitlines() if line.startswith("    ") and not line.startswith("    titanic-nn ")]
    monkeypatch.chdir(tmp_path)
    result = run(["lr-find"])
    assert result.code == 0, result.err
    printed = result.out.splitlines()[1:]  # the first, the rows' note, is fit's
    if not plotting_available():
        shown = shown[:-1]
        printed = printed[:-1]
    assert printed == shown
    picture = Path(__file__).resolve().parents[1] / "docs" / "lr_find.png"
    assert "](docs/lr_find.png)" in section and picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the suggestion the section quotes for fit --lr find, and the API block's
    assert "nnet: learning rate 0.000692, the learning-rate finder's suggestion" in " ".join(section.split())
    assert "found = tn.lr_find(tn.TwoReLU(), X, y)  # fastai's range test: found.suggestion 0.000692" in readme


def test_the_result_draws_its_plot(lesson, tmp_path):
    X, y = lesson
    found = tn.lr_find(tn.TwoReLU(), X, y)
    drawn = found.plot(tmp_path / "lr.png", label="nnet")
    assert drawn == plotting_available()
    if drawn:
        assert (tmp_path / "lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert not (tmp_path / "lr.png").exists()
