"""loss.png: the loss per epoch of gradient-descent runs, drawn with matplotlib when it is installed."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

__all__ = ["plotting_available", "plot_losses"]


def plotting_available() -> bool:
    """True when matplotlib can be imported (it is optional: titanic-nn does not depend on it)."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def plot_losses(histories: Mapping[str, Mapping[str, Sequence[float]]], path: str | Path) -> bool:
    """Draw each model's train (solid) and valid (dashed) loss per epoch into a PNG at `path`.

    `histories` maps a model name to {"train": [...], "valid": [...]}. Returns False, writing
    nothing, when matplotlib is missing or there is no history to draw.
    """
    curves = {name: h for name, h in histories.items() if h and len(h.get("train") or ()) > 0}
    if not curves or not plotting_available():
        return False
    import matplotlib

    matplotlib.use("Agg")  # no display is needed, or wanted, to write a file
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=100)
    try:
        for index, (name, history) in enumerate(curves.items()):
            color = f"C{index}"
            train = list(history["train"])
            axes.plot(range(1, len(train) + 1), train, color=color, label=f"{name} train")
            valid = list(history.get("valid") or ())
            if valid:
                axes.plot(range(1, len(valid) + 1), valid, color=color, linestyle="--", label=f"{name} valid")
        axes.set_xlabel("epoch")
        axes.set_ylabel("loss")
        axes.set_title("Loss per epoch (gradient descent)")
        axes.grid(True, alpha=0.3)
        axes.legend()
        figure.tight_layout()
        # format= because the caller may hand a temporary path whose suffix is not .png
        figure.savefig(str(path), format="png")
    finally:
        plt.close(figure)
    return True
