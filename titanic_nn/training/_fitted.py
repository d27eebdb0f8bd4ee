"""A trained model bundled with the features it was trained on: what the workbook, the JSON and the CLI share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidModelError, TitanicNNError
from ..features import Features
from ..nn import Model
from ._params import params_to_lists

__all__ = ["FittedModel", "FORMAT", "FORMAT_VERSION"]

# The JSON written by `to_dict`: its name, and the version a reader must understand to load it.
FORMAT = "titanic-nn-model"
FORMAT_VERSION = 1


@dataclass(repr=False)
class FittedModel:
    """Fitted `features`, a `model` and its `params`, under a `name` (the sheet's, e.g. "nnet").

    `training` holds what the trainer recorded, as plain values: method, settings, final loss, the
    loss per epoch for gradient descent (`history`), seconds, and validation metrics where measured.
    """

    features: Features
    model: Model
    params: Any
    name: str = ""
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.model.kind

    def __repr__(self) -> str:
        from ._result import shapes_of

        # the training record holds the loss per epoch: show its scores, not its thousands of numbers
        scores = [
            f"{key}={self.training[key]:.6g}"
            for key in ("train_loss", "valid_loss", "valid_accuracy", "valid_rmse")
            if isinstance(self.training.get(key), (int, float))
        ]
        features = getattr(self.features, "feature_names_", None)
        inputs = f"{len(features)} features" if features is not None else "features not fitted"
        method = self.training.get("method")
        parts = [f"name={self.name!r}", repr(self.model), inputs, f"params={shapes_of(self.params)}"]
        parts += ([f"method={method!r}"] if method else []) + scores
        return f"FittedModel({', '.join(parts)})"

    def predict_inputs(self, X: np.ndarray) -> np.ndarray:
        """Predictions for already-transformed inputs, in float64."""
        return self.model.predict(X, self.params)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's output for raw rows (every row kept; blanks filled from training statistics): the numbers the
        sheet's Preds column holds. A regression target's are divided by its scale; `predict_target` gives them in
        the target's own unit."""
        return self.predict_inputs(self.features.transform(frame))

    def predict_target(self, frame: pd.DataFrame) -> np.ndarray:
        """What the submission writes for each row of `frame`, as the target's file holds it: a binary target's class
        (0/1 integers, the sheet's IF(pred>0.5,1,0), or its own two values), a regression target's number."""
        return self.features.target_.submission(self.predict(frame))

    def predict_survived(self, frame: pd.DataFrame) -> np.ndarray:
        """`predict_target`, by the Titanic's name."""
        return self.predict_target(frame)

    # -- persistence ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to predict again, as plain JSON-able values (parameters as nested lists)."""
        from .. import __version__

        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "name": self.name,
            "model": self.model.get_config(),
            "features": self.features.to_dict(),
            "params": params_to_lists(self.params),
            "training": self.training,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FittedModel":
        """The inverse of `to_dict`, every entry validated first (`training/_validate.py`): an InvalidModelError
        names the first entry of the wrong type, shape or version, or a number that is not finite."""
        from ._validate import check_config, check_features, check_model_dict, check_params, check_record

        check_model_dict(data, format_name=FORMAT, format_version=FORMAT_VERSION)
        model = check_config(data["model"], "model")
        features = check_features(data["features"], "features")
        params = check_params(model, data["params"], features.n_features_, "params")
        try:  # the target and the model it trained must fit each other (its classes, its labels, its kind of output)
            features.check_model(model)
        except TitanicNNError as exc:
            raise InvalidModelError(f"model: {exc}") from exc
        training = check_record(data.get("training"), "training")
        return cls(features, model, params, name=data.get("name", ""), training=training)
