"""The benchmark table: titanic-nn beside what a user would pick instead, each figure a median, each comparison a ratio.

    python bench/run.py            # every section
    python bench/run.py --quick    # fewer repeats and smaller sizes, for a smoke run
    python bench/run.py --busy     # with two busy processes beside every measurement (a shared machine)

Sections: (1) fit time and loss per model and method beside scikit-learn; (2) `titanic-nn fit` end
to end beside a plain scikit-learn script; (3) gradient-descent throughput beside the lesson's loop;
(4) workbook writing beside a plain openpyxl writer; (5) verify time per engine; (6) `--help` time;
(7) training-sheet recalculation per engine; (8) what the training sheets add to `titanic-nn fit`;
(9) cross-validated accuracy of each preset x model beside scikit-learn's (bench/cv.py); (10) the time
the command line takes to refuse a run outside its settings' ranges or far beyond the machine; (11) every
kind of target cross-validated, on tables that ship with scikit-learn, beside scikit-learn (bench/cv.py).
`--busy` runs two processes that each keep a core busy for the whole run, so the targets are
measured as on a loaded machine too. `bench/fresh_install.py` (not a section: it installs from the
package registries) proves `titanic-nn fit` runs in a fresh venv without torch.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from common import ROOT, busy, median_seconds, print_table, time_command  # noqa: E402


def fit_section(repeat: int) -> None:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier

    import titanic_nn as tn

    train, _ = tn.load_titanic()
    X, y = tn.Features().fit_transform(train)
    rows = []
    peers = {
        "LinearRegression": lambda: LinearRegression(fit_intercept=False).fit(X, y),
        "LogisticRegression": lambda: LogisticRegression(max_iter=1000).fit(X[:, :-1], y),
        "MLPClassifier(2,)": lambda: MLPClassifier(hidden_layer_sizes=(2,), max_iter=2000, random_state=0).fit(X[:, :-1], y),
    }
    peer_seconds = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, fit in peers.items():
            seconds, fitted = median_seconds(fit, repeat)
            pred = fitted.predict(X) if name == "LinearRegression" else fitted.predict_proba(X[:, :-1])[:, 1]
            peer_seconds[name] = seconds
            rows.append([name, "sklearn", seconds, tn.mse(pred, y), tn.accuracy(pred, y), ""])
    baseline = {"linear": "LinearRegression", "nnet": "MLPClassifier(2,)", "mmult": "MLPClassifier(2,)"}
    for model in (tn.Linear(), tn.TwoReLU(), tn.MatMulNet(hidden=2)):
        for method, fit in (("solver", tn.fit_solver), ("gd", tn.fit_gd)):
            seconds, result = median_seconds(lambda: fit(model, X, y, seed=0, progress=False), repeat)
            pred = model.predict(X, result.params)
            peer = baseline[model.kind]
            rows.append([model.kind, method, seconds, result.loss, tn.accuracy(pred, y),
                         f"{seconds / peer_seconds[peer]:.2f}x {peer}"])
    print_table("(1) Fit time and final training loss on the 712 lesson rows (mean squared error of the prediction or probability)",
                ["model", "method", "seconds", "mse", "accuracy", "time vs peer"], rows)


# This checkout's command line (run from ROOT, so `-m` finds this package, not an installed one).
CLI = [sys.executable, "-m", "titanic_nn"]


def end_to_end_section(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours_cmd = [*CLI, "fit", "--quiet", "--out", f"{tmp}/ours"]
        gd_cmd = [*CLI, "fit", "--quiet", "--method", "gd", "--out", f"{tmp}/gd"]
        kaggle_cmd = [*CLI, "fit", "--quiet", "--preset", "kaggle", "--out", f"{tmp}/kaggle"]
        peer_cmd = [sys.executable, str(ROOT / "bench" / "sklearn_script.py"), "--out", f"{tmp}/peer"]
        ours, peer, gd, kaggle = [], [], [], []
        for _ in range(repeat):  # interleaved, so a burst of load hits each alike
            ours.append(time_command(ours_cmd, 1))
            peer.append(time_command(peer_cmd, 1))
            gd.append(time_command(gd_cmd, 1))
            kaggle.append(time_command(kaggle_cmd, 1))
    ours, peer, gd, kaggle = (statistics.median(v) for v in (ours, peer, gd, kaggle))
    print_table("(2) End to end: CSVs in, submission out (target: titanic-nn fit, and with --preset kaggle, at most 1.5x)",
                ["command", "seconds", "ratio"],
                [["titanic-nn fit", ours, f"{ours / peer:.2f}x"], ["scikit-learn script", peer, "1.00x"],
                 ["titanic-nn fit --method gd", gd, f"{gd / peer:.2f}x"],
                 ["titanic-nn fit --preset kaggle", kaggle, f"{kaggle / peer:.2f}x"]])


def gd_throughput_section(repeat: int, rows: int = 1_000_000, epochs: int = 50) -> None:
    import statistics

    from gd_throughput import baseline_seconds, fit_gd_seconds, synthetic

    X, y = synthetic(rows, 10)
    work = rows * epochs
    table = []
    for kind in ("linear", "mmult"):
        baseline_seconds(kind, X[:1000], y[:1000], 2, 0.01, "cpu")  # warm the thread pools and allocator
        fit_gd_seconds(kind, X[:1000], y[:1000], 2, 0.01, "cpu")
        base, fast = [], []
        for _ in range(repeat):  # interleaved, so a burst of load hits both alike
            base.append(baseline_seconds(kind, X, y, epochs, 0.01, "cpu"))
            fast.append(fit_gd_seconds(kind, X, y, epochs, 0.01, "cpu"))
        b, f = statistics.median(base), statistics.median(fast)
        name = "Linear" if kind == "linear" else "MatMulNet(hidden=2)"
        table.append([name, f"{work / b:,.0f}", f"{work / f:,.0f}", f"{b / f:.2f}x"])
    print_table(f"(3) Gradient-descent throughput, {rows:,} rows x 10 features, {epochs} epochs, CPU, one start (target: 2.5x)",
                ["model", "lesson loop rows/s/epoch", "fit_gd rows/s/epoch", "ratio"], table)


def workbook_section(repeat: int, sizes: tuple[int, ...] = (712, 10_000, 100_000), baseline_max: int = 100_000) -> None:
    import titanic_nn as tn
    from workbook_write import openpyxl_baseline, peak_mb, rows_of, three_models

    train_all, test = tn.load_titanic()
    table = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            train = rows_of(train_all, n)
            fits = three_models(train)
            target = Path(folder) / f"w{n}.xlsx"
            ours, _ = median_seconds(lambda: tn.write_workbook(target, fits, train, test), repeat)
            memory = peak_mb(lambda: tn.write_workbook(target, fits, train, test))
            if n <= baseline_max:  # minutes and gigabytes at 100,000 rows: one run
                base, _ = median_seconds(lambda: openpyxl_baseline(Path(folder) / "b.xlsx", fits, train, test), 1 if n > 10_000 else repeat)
                versus = [base, f"{base / ours:.1f}x"]
            else:
                versus = ["-", "-"]
            table.append([f"{n:,}", ours, f"{memory:.0f} MB", *versus])
    print_table("(4) Workbook writing, three models plus the test sheet (target at 100,000 rows: <= 10 s, < 300 MB, >= 2.5x)",
                ["rows", "write_workbook s", "peak memory", "openpyxl cell-by-cell s", "ratio"], table)


def verify_section(repeat: int, sizes: tuple[int, ...] = (712, 10_000)) -> None:
    import titanic_nn as tn
    from titanic_nn.engines import ENGINES
    from workbook_write import rows_of, three_models

    train_all, test = tn.load_titanic()
    table = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            train = rows_of(train_all, n)
            path = tn.write_workbook(Path(folder) / f"w{n}.xlsx", three_models(train), train, test)
            for engine in ENGINES:
                seconds, report = median_seconds(lambda: tn.verify(path, engines=engine), repeat)
                table.append([f"{n:,}", engine, seconds, report.cells_checked, report.ok])
    print_table("(5) verify per engine (recalculation forced, every computed cell compared)",
                ["rows", "engine", "seconds", "cells checked", "ok"], table)


def training_section(repeat: int) -> None:
    from training_sheets import fit_overhead, recalculation_table

    print_table(
        "(7) Training sheet recalculation, the nnet sheet's 300 epochs of Adam, start-up included (target: LibreOffice within 5 s at 712 rows)",
        ["rows", "engine", "epochs", "seconds"], recalculation_table([712, 10_000], 300, max(1, repeat // 2)),
    )
    without, with_sheets = fit_overhead(repeat)
    print_table(
        "(8) titanic-nn fit end to end, without and with its training sheets (target: at most 30% more)",
        ["--sheet-epochs", "seconds", "added"],
        [["0", without, "-"], ["300 (the default)", with_sheets, f"{with_sheets / without - 1:+.0%}"]],
    )


def cv_section(repeat: int) -> None:
    from cv import cv_table

    quick = repeat < 5  # --quick: 2 repeats of 5 folds, for a smoke run
    folds, repeats = (5, 2) if quick else (10, 5)
    rows = cv_table(["sheet", "notebook", "kaggle"], ["linear", "nnet", "mmult"], folds, repeats)
    print_table(
        f"(9) Repeated stratified {folds}-fold cross-validation on train.csv, {repeats} repeats, each fold's statistics "
        "from its training folds (target: the best sheet model's mean at least 0.845 with kaggle's features)",
        ["features", "model", "mean accuracy", "std", "seconds"],
        [[preset, name, f"{mean:.4f}", f"{std:.4f}", f"{seconds:.0f}"] for preset, name, mean, std, seconds in rows],
    )


def kinds_section(repeat: int) -> None:
    from cv import LINEAR_PEER, kinds_table, verdict

    from titanic_nn.features import SCORE_LABELS

    quick = repeat < 5  # --quick: 2 repeats of 5 folds, for a smoke run
    folds, repeats = (5, 2) if quick else (10, 5)
    for name, table in kinds_table(["breast_cancer", "diabetes"], None, folds, repeats).items():
        metric, label = table["metric"], SCORE_LABELS[table["metric"]]
        rows = []
        for model, (result, seconds) in table["results"].items():
            r2 = [f"{result.mean_of('r2'):.4f}", f"{result.std_of('r2'):.4f}"] if "r2" in result.other_scores else []
            rows.append([model, f"{result.mean:.4f}", f"{result.std:.4f}", *r2, f"{seconds:.0f}"])
        met, best, peer = verdict(table)
        print_table(
            f"(11) {name} ({table['kind']}): repeated {folds}-fold cross-validation, {repeats} repeats, the folds of its "
            f"kind (target: the best sheet model's mean reaches at least {LINEAR_PEER[table['kind']]}'s: "
            f"{'met' if met else 'NOT met'}, {best} beside {peer})",
            ["model", f"mean {label}", "std", *(["mean R²", "std"] if metric == "rmse" else []), "seconds"], rows,
        )


# Runs the command line refuses before any training: a setting outside its range, or work far beyond the machine.
REFUSED = (
    ["--seed", "-1"], ["--epochs", str(10**9), "--method", "gd"], ["--restarts", str(10**9)], ["--hidden", "20000"],
    ["--layers", "16384,16384"],
)


def refusals_section(repeat: int) -> None:
    import subprocess

    from common import median_seconds

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for options in REFUSED:
            argv = [*CLI, "fit", "--out", f"{tmp}/out", *options]

            def refused() -> subprocess.CompletedProcess:
                return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)

            seconds, done = median_seconds(refused, repeat)
            said = done.stderr.strip().splitlines()
            rows.append([" ".join(options), done.returncode, seconds, len(said), said[-1][:90] if said else ""])
    print_table("(10) Runs refused before any training, one line each (target: under 1 s, start-up included)",
                ["options of fit", "exit", "seconds", "lines", "the line, cut"], rows)


def help_section(repeat: int) -> None:
    seconds = time_command([*CLI, "--help"], repeat)
    print_table("(6) `titanic-nn --help` (target: under 0.5 s)", ["command", "seconds"], [["titanic-nn --help", seconds]])


SECTIONS = {
    "fit": fit_section,
    "e2e": end_to_end_section,
    "gd": gd_throughput_section,
    "workbook": workbook_section,
    "verify": verify_section,
    "help": help_section,
    "training": training_section,
    "cv": cv_section,
    "refusals": refusals_section,
    "kinds": kinds_section,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append", help="run only these sections")
    parser.add_argument("--busy", action="store_true", help="two busy processes beside every measurement")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 5
    with busy(2 if args.busy else 0) as others:
        if others:
            print(f"busy mode: processes {', '.join(map(str, others))} each keep a core busy during the run")
        for name in args.only or SECTIONS:
            if name == "workbook" and args.quick:
                workbook_section(repeat, baseline_max=10_000)
            elif name == "help":
                help_section(repeat * 2)
            else:
                SECTIONS[name](repeat)


if __name__ == "__main__":
    main()
