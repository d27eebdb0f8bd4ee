"""Cross-validated accuracy of each preset x model, beside scikit-learn's on the same features and folds.

    python bench/cv.py [--repeats 5] [--folds 10] [--presets sheet,notebook,kaggle] [--no-sklearn]

Repeated stratified 10-fold cross-validation on the bundled train.csv (5 repeats by default, the
same folds for every row of the table: `titanic_nn.training.stratified_folds`, seeds 0..4). Each
fold's features are fitted on the other nine folds alone (fills, scales, title groups, group
survival rates); the held-out fold and the bundled test.csv are given to fit as unlabelled rows, so
the ticket counts count them, as `titanic-nn fit` counts the test rows. Gender alone (women
survive) is scored on the same folds. Prints one line per row of the table: mean ± std over the
folds, and the seconds it took.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import titanic_nn as tn  # noqa: E402
from titanic_nn.errors import UnseenLevelWarning  # noqa: E402
from titanic_nn.training import CVResult, cross_validate, stratified_folds  # noqa: E402


def sklearn_models() -> dict[str, object]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    def fitted(make):
        def predict(X, y, X_held):
            return make().fit(X, y).predict_proba(X_held)[:, 1]

        return predict

    return {
        "sklearn LogisticRegression": fitted(lambda: LogisticRegression(max_iter=2000)),
        "sklearn RandomForest": fitted(lambda: RandomForestClassifier(n_estimators=300, min_samples_leaf=2, random_state=0, n_jobs=1)),
        "sklearn HistGradientBoosting": fitted(lambda: HistGradientBoostingClassifier(random_state=0)),
    }


def gender(train: pd.DataFrame, folds: int, repeats: int) -> CVResult:
    result = CVResult()
    y = train["Survived"].to_numpy()
    for _, held in stratified_folds(y, folds, repeats):
        result.accuracies.append(float(np.mean((train["Sex"].iloc[held] == "female").to_numpy() == y[held])))
    return result


def cv_table(presets: list[str], models: list[str], folds: int = 10, repeats: int = 5,
             with_sklearn: bool = True) -> list[list[object]]:
    """[features, model, mean, std, seconds] for gender alone, then each preset x model (and scikit-learn's)."""
    warnings.simplefilter("ignore", UnseenLevelWarning)  # a fold may lack a rare deck; its dummies are zero
    train, test = pd.read_csv(tn.data_path("train.csv")), pd.read_csv(tn.data_path("test.csv"))
    started = time.perf_counter()
    alone = gender(train, folds, repeats)
    table: list[list[object]] = [["-", "gender only", alone.mean, alone.std, time.perf_counter() - started]]
    for preset in presets:
        rows: dict[str, object] = {kind: tn.build_model(kind) for kind in models}
        if with_sklearn:
            rows.update(sklearn_models())
        for name, model in rows.items():
            started = time.perf_counter()
            result = cross_validate(train, model, schema=preset, folds=folds, repeats=repeats, unlabelled=test)
            table.append([preset, name, result.mean, result.std, time.perf_counter() - started])
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--presets", default="sheet,notebook,kaggle")
    parser.add_argument("--models", default=",".join(tn.MODELS))
    parser.add_argument("--no-sklearn", action="store_true")
    args = parser.parse_args()
    print(f"repeated stratified {args.folds}-fold CV on train.csv, {args.repeats} repeats: mean ± std of fold accuracy")
    for preset, name, mean, std, seconds in cv_table(
        args.presets.split(","), args.models.split(","), args.folds, args.repeats, not args.no_sklearn
    ):
        print(f"{(preset + ' ' if preset != '-' else '') + str(name):<45} {mean:.4f} ± {std:.4f}  {seconds:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
