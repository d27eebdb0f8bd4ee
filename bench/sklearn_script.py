"""The peer baseline for the end-to-end benchmark: a plain scikit-learn script doing the lesson's job.

It reads the CSVs, makes the lesson workbook's features by hand, fits LogisticRegression and
MLPClassifier(hidden_layer_sizes=(2,)), and writes a Kaggle submission.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

ROOT = Path(__file__).resolve().parents[1]


def features(frame: pd.DataFrame, age_max: float, fill: dict) -> np.ndarray:
    frame = frame.fillna(fill)
    return np.column_stack(
        [
            frame["SibSp"], frame["Parch"], frame["Age"] / age_max, np.log10(frame["Fare"] + 1),
            frame["Pclass"] == 1, frame["Pclass"] == 2, frame["Embarked"] == "S", frame["Embarked"] == "C",
            frame["Sex"] == "male",
        ]
    ).astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("sklearn-out"))
    args = parser.parse_args()
    train = pd.read_csv(ROOT / "data" / "train.csv").dropna(subset=["Age", "Embarked"])
    test = pd.read_csv(ROOT / "data" / "test.csv")
    fill = {c: train[c].mode()[0] for c in ["Age", "Fare", "Embarked"]}
    X = features(train, train["Age"].max(), fill)
    y = train["Survived"].to_numpy()
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, random_state=0)
    models = {
        "logistic": LogisticRegression(max_iter=1000),
        "mlp": MLPClassifier(hidden_layer_sizes=(2,), max_iter=2000, random_state=0),
    }
    scores = {name: model.fit(X_train, y_train).score(X_valid, y_valid) for name, model in models.items()}
    best = max(scores, key=scores.get)
    survived = models[best].predict(features(test, train["Age"].max(), fill)).astype(int)
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"PassengerId": test["PassengerId"], "Survived": survived}).to_csv(args.out / "submission.csv", index=False)
    for name, score in scores.items():
        print(f"{name}: valid accuracy {score:.4f}")


if __name__ == "__main__":
    main()
