"""Cross-validated scores of titanic-nn's models beside scikit-learn's, same features and folds: Titanic, and each target kind.

    python bench/cv.py [--tables titanic,breast_cancer,wine,iris,diabetes] [--repeats 5] [--folds 10]
                       [--presets sheet,notebook,kaggle] [--models linear,nnet,...] [--rows N] [--no-sklearn]

The Titanic (`--tables titanic`): repeated stratified 10-fold cross-validation on the bundled train.csv
(5 repeats by default, the same folds for every row of the table: `titanic_nn.training.stratified_folds`,
seeds 0..4), each preset x model. Each fold's features are fitted on the other nine folds alone (fills,
scales, title groups, group survival rates); the held-out fold and the bundled test.csv are given to fit as
unlabelled rows, so the ticket counts count them, as `titanic-nn fit` counts the test rows. Gender alone
(women survive) is scored on the same folds. Prints one line per row of the table: mean ± std over the
folds, and the seconds it took.

Every kind of target, on tables that ship with scikit-learn: breast cancer (`load_breast_cancer`, a binary
target, 569 rows), wine and iris (`load_wine`, `load_iris`: three classes, 178 and 150 rows) and diabetes
(`load_diabetes(scaled=False)`, a regression target, 442 rows). Their folds are the target's kind's
(`titanic_nn.training.folds_for`: stratified for classes, plain k-fold by the same seeded rule for regression),
10 x 5 by default. The schema names the kind (`task`: the wine and iris classes are numbers 0, 1, 2, which
typing would take for a regression target): every column but the target continuous, divided by its training
max, and the constant Ones, as the typing of these all-numeric tables gives.
Each titanic-nn model kind is trained with the default solver but tabular, fastai's tabular model, which trains as
fastai teaches (`TABULAR_TRAINING`: gradient descent with the one-cycle schedule and weight decay, every categorical
column embedded; the kinds' tables have none); mmult is left out unless `--models` names it,
as `MatMulNet(hidden=2)`, its default, is `TwoReLU` (nnet): the same starts, program and solver, so the same
fit (the bench's test checks their scores are equal). Beside them, on the same folds and the very inputs the
models see (each fold's `Features.fit_transform`/`transform`, the Ones column included; a regression target
divided by its training scale, predictions multiplied back for the scores): scikit-learn's linear peer
(LogisticRegression for classes, multinomial for several, Ridge for regression, default regularisation; the
classifiers fit the class of each one-hot row and give their probabilities), MLPClassifier/MLPRegressor and
HistGradientBoostingClassifier/Regressor, each with its defaults (random_state=0, more iterations for
convergence). Each table prints one line per model: mean ± std over the folds of the target's first metric
(accuracy; RMSE, and R² too, for regression) and seconds, then whether the best titanic-nn model's mean reaches
at least the best linear peer's. `--rows N` takes a seeded sample of N rows of each such table (for a quick run).
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
from titanic_nn.features import Target, embedded, preset_schema  # noqa: E402
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


# How each kind is trained in the bench: the solver (its defaults) unless named here. fastai's tabular model trains as
# fastai teaches, with every categorical column embedded, the one-cycle schedule and weight decay, by full-batch
# gradient descent; lr, wd and epochs chosen on the kaggle preset's folds of one repeat (docs/trainers.md).
TABULAR_TRAINING = {"method": "gd", "schedule": "one-cycle", "wd": 0.1, "lr": 0.01, "epochs": 100, "restarts": 4}
TRAINING = {"tabular": TABULAR_TRAINING}


def label_of(kind: str) -> str:
    """The table's name for a kind: how it trains, where that is not the solver's default."""
    return "tabular (gd, one-cycle, wd 0.1)" if kind == "tabular" else kind


def schema_for(kind: str, schema: object, missing: str | None = None) -> tuple[object, str | None]:
    """The schema a kind is cross-validated with: the preset's (or table's), every categorical column embedded for
    the tabular kind."""
    if kind != "tabular":
        return schema, missing
    if isinstance(schema, str):
        schema, missing = preset_schema(schema)
    return embedded(schema, {spec.column: True for spec in schema.categorical}), missing


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
            schema, missing = schema_for(name, preset)
            result = cross_validate(
                train, model, schema=schema, missing=missing, folds=folds, repeats=repeats, unlabelled=test,
                progress=False, **TRAINING.get(name, {}),
            )
            table.append([preset, label_of(name), result.mean, result.std, time.perf_counter() - started])
    return table


# Tables that ship with scikit-learn, one per kind of target the package supports: (loader, its options, kind).
KIND_TABLES = {
    "breast_cancer": ("load_breast_cancer", {}, "binary"),
    "wine": ("load_wine", {}, "multiclass"),
    "iris": ("load_iris", {}, "multiclass"),
    "diabetes": ("load_diabetes", {"scaled": False}, "regression"),
}
# Model kinds trained exactly as another kind by default (MatMulNet(hidden=2) is TwoReLU), left out of a kind's table.
SAME_TRAINING = {"mmult": "nnet"}
# The scikit-learn peer that is a linear model, per kind of target.
LINEAR_PEER = {"binary": "sklearn LogisticRegression", "multiclass": "sklearn LogisticRegression", "regression": "sklearn Ridge"}


def load_table(name: str, rows: int | None = None) -> pd.DataFrame:
    """The table `name` of KIND_TABLES as one frame with its `target` column; a seeded sample of `rows` rows if given."""
    import sklearn.datasets

    loader, options, _ = KIND_TABLES[name]
    frame = getattr(sklearn.datasets, loader)(as_frame=True, **options).frame
    if rows is not None and rows < len(frame):
        frame = frame.sample(n=rows, random_state=0).reset_index(drop=True)
    return frame


def table_schema(frame: pd.DataFrame, kind: str, target: str = "target") -> tn.Schema:
    """Every column but the target continuous, divided by its training max, and the constant Ones."""
    inputs = [column for column in frame.columns if column != target]
    return tn.Schema(
        target=target, id_column=None, continuous=tuple(tn.Continuous(c, scale="max") for c in inputs), categorical=(),
        constant="Ones", task=kind,
    )


def peer_models(kind: str) -> dict[str, object]:
    """scikit-learn's linear model, MLP and gradient boosting for a target of `kind`, each as (X, y, X_held) -> predictions."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    def fitted(make, probability: bool):
        def predict(X, y, X_held):
            if y.ndim == 2:  # several classes, one-hot: each row's class, and the probability of each class in order
                return make().fit(X, y.argmax(1)).predict_proba(X_held)
            model = make().fit(X, y)
            return model.predict_proba(X_held)[:, 1] if probability else model.predict(X_held)

        return predict

    if kind in ("binary", "multiclass"):
        makers = {
            LINEAR_PEER[kind]: lambda: LogisticRegression(max_iter=5000),
            "sklearn MLPClassifier": lambda: MLPClassifier(max_iter=2000, random_state=0),
            "sklearn HistGradientBoosting": lambda: HistGradientBoostingClassifier(random_state=0),
        }
    else:
        makers = {
            LINEAR_PEER[kind]: lambda: Ridge(),
            "sklearn MLPRegressor": lambda: MLPRegressor(max_iter=2000, random_state=0),
            "sklearn HistGradientBoosting": lambda: HistGradientBoostingRegressor(random_state=0),
        }
    return {name: fitted(make, kind != "regression") for name, make in makers.items()}


def kind_models(models: list[str] | None) -> list[str]:
    """The titanic-nn model kinds of a kind's table: `models`, or every kind but those trained as another (SAME_TRAINING)."""
    return models if models is not None else [kind for kind in tn.MODELS if kind not in SAME_TRAINING]


def kinds_table(tables: list[str], models: list[str] | None = None, folds: int = 10, repeats: int = 5,
                rows: int | None = None, with_sklearn: bool = True) -> dict[str, dict[str, object]]:
    """Per table: its kind, rows, inputs, first metric, and per model (titanic-nn's, then scikit-learn's) its
    CVResult and seconds, all on the table's folds."""
    from sklearn.exceptions import ConvergenceWarning

    out: dict[str, dict[str, object]] = {}
    for name in tables:
        kind = KIND_TABLES[name][2]
        frame = load_table(name, rows)
        schema = table_schema(frame, kind)
        entries: dict[str, tuple[object, dict]] = {
            f"titanic-nn {label_of(k)}": (tn.build_model(k), TRAINING.get(k, {})) for k in kind_models(models)
        }
        if with_sklearn:
            entries.update({label: (peer, {}) for label, peer in peer_models(kind).items()})
        results: dict[str, tuple[CVResult, float]] = {}
        for label, (model, training) in entries.items():
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                options = {"progress": False, **training} if training else {}
                result = cross_validate(frame, model, schema=schema, folds=folds, repeats=repeats, **options)
            results[label] = (result, time.perf_counter() - started)
        first = next(iter(results.values()))[0].metric
        out[name] = {"kind": kind, "rows": len(frame), "inputs": len(schema.continuous), "metric": first, "results": results}
    return out


def verdict(table: dict[str, object]) -> tuple[bool, str, str] | None:
    """Whether the best titanic-nn model's mean reaches at least the best linear peer's, and the two (None without the peer)."""
    results, metric = table["results"], table["metric"]
    peer = LINEAR_PEER[table["kind"]]
    ours = [label for label in results if label.startswith("titanic-nn ")]
    if peer not in results or not ours:
        return None
    best = ours[0]
    for label in ours[1:]:
        if Target.better(metric, results[label][0].mean, results[best][0].mean):
            best = label
    met = not Target.better(metric, results[peer][0].mean, results[best][0].mean)
    return met, best, peer


def print_kinds_table(tables: dict[str, dict[str, object]], folds: int, repeats: int) -> None:
    """One block per table: a line per model (mean ± std of the first metric, R² for regression, seconds), then the target."""
    for name, table in tables.items():
        metric = table["metric"]
        way = "stratified " if table["kind"] == "binary" else ""
        print(f"\n{name} ({table['kind']}, {table['rows']} rows, {table['inputs']} inputs): repeated {way}{folds}-fold CV, "
              f"{repeats} repeats, mean ± std over {folds * repeats} folds")
        for label, (result, seconds) in table["results"].items():
            scores = f"{tn.features.SCORE_LABELS[metric]} {result.mean:.4f} ± {result.std:.4f}"
            if "r2" in result.other_scores:
                scores += f"   R² {result.mean_of('r2'):.4f} ± {result.std_of('r2'):.4f}"
            print(f"  {label:<32} {scores}  {seconds:.0f} s", flush=True)
        judged = verdict(table)
        if judged is not None:
            met, best, peer = judged
            results = table["results"]
            print(f"  target: the best sheet model's mean ({best} {results[best][0].mean:.4f}) reaches at least the best "
                  f"linear peer's ({peer} {results[peer][0].mean:.4f}): {'met' if met else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(["titanic", *KIND_TABLES]))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--presets", default="sheet,notebook,kaggle")
    parser.add_argument("--models", default=None, help="titanic-nn model kinds (default: all; the kinds' tables skip mmult)")
    parser.add_argument("--rows", type=int, default=None, help="a seeded sample of this many rows of each kind's table")
    parser.add_argument("--no-sklearn", action="store_true")
    args = parser.parse_args()
    tables = args.tables.split(",")
    unknown = [t for t in tables if t != "titanic" and t not in KIND_TABLES]
    if unknown:
        parser.error(f"unknown table(s) {', '.join(unknown)}; the tables are titanic, {', '.join(KIND_TABLES)}")
    models = args.models.split(",") if args.models else None
    if "titanic" in tables:
        print(f"repeated stratified {args.folds}-fold CV on train.csv, {args.repeats} repeats: mean ± std of fold accuracy")
        for preset, name, mean, std, seconds in cv_table(
            args.presets.split(","), models or list(tn.MODELS), args.folds, args.repeats, not args.no_sklearn
        ):
            print(f"{(preset + ' ' if preset != '-' else '') + str(name):<45} {mean:.4f} ± {std:.4f}  {seconds:.0f} s", flush=True)
    kinds = [t for t in tables if t in KIND_TABLES]
    if kinds:
        print_kinds_table(kinds_table(kinds, models, args.folds, args.repeats, args.rows, not args.no_sklearn),
                          args.folds, args.repeats)
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
