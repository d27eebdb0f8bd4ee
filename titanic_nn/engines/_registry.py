"""The engines verify knows, by the name `verify(engines=...)` and `--engine` take (imports nothing heavy)."""

from __future__ import annotations

from ._engine import Engine
from ._gnumeric import Gnumeric
from ._hyperformula import HyperFormula
from ._libreoffice import LibreOffice

__all__ = ["ENGINES"]

ENGINES: dict[str, Engine] = {engine.name: engine for engine in (LibreOffice(), Gnumeric(), HyperFormula())}
