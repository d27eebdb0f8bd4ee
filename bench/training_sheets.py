"""Seconds for a training sheet: the nnet sheet's 300 epochs of Adam recalculated by each engine, start-up included,
and what writing the training sheets adds to `titanic-nn fit` end to end.

    python bench/training_sheets.py [--rows 712 10000] [--epochs 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import titanic_nn as tn  # noqa: E402
from common import median_seconds, print_table, time_command  # noqa: E402
from titanic_nn.engines import ENGINES, recalculate  # noqa: E402
from workbook_write import rows_of  # noqa: E402


def recalculation_table(sizes: list[int], epochs: int, repeat: int) -> list[list[object]]:
    train_all, _ = tn.load_titanic()
    table = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            train = rows_of(train_all, n)
            features = tn.Features().fit(train)
            nnet = tn.FittedModel(features, tn.TwoReLU(), tn.TwoReLU().init(features.n_features_, seed=0), "nnet")
            # the nnet sheet and its training sheet only, so the time is the training sheet's
            path = tn.write_workbook(
                Path(folder) / f"t{n}.xlsx", [nnet], train, training=tn.SheetTraining(epochs=epochs, optimizer="adam")
            )
            for engine in ENGINES:
                seconds, _ = median_seconds(lambda: recalculate([path], Path(folder) / engine, engine=engine, timeout=900), repeat)
                table.append([f"{n:,}", engine, epochs, seconds])
    return table


def fit_overhead(repeat: int) -> tuple[float, float]:
    cli = shutil.which("titanic-nn")
    base = [cli] if cli else [sys.executable, "-m", "titanic_nn"]
    with tempfile.TemporaryDirectory() as tmp:
        without = time_command([*base, "fit", "--quiet", "--sheet-epochs", "0", "--out", f"{tmp}/a"], repeat)
        with_sheets = time_command([*base, "fit", "--quiet", "--out", f"{tmp}/b"], repeat)
    return without, with_sheets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[712, 10_000])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print_table(
        "Training sheet: recalculation by each engine, start-up included (target at 712 rows: LibreOffice within 5 s)",
        ["rows", "engine", "epochs", "seconds"], recalculation_table(args.rows, args.epochs, args.repeat),
    )
    without, with_sheets = fit_overhead(args.repeat)
    print_table(
        "titanic-nn fit end to end, without and with its three training sheets (target: at most 30% more)",
        ["--sheet-epochs", "seconds", "added"],
        [["0", without, "-"], ["300 (the default)", with_sheets, f"{with_sheets / without - 1:+.0%}"]],
    )


if __name__ == "__main__":
    main()
