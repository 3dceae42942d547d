"""The run budget: one switch that scales how much every example trains.

``TORCHFLOW_BUDGET`` selects it:

* ``smoke`` -- seconds per example; the test-suite runs every example this way.
* ``cpu``   -- the default: a minute or two per example on two CPU cores, and
  still good enough to reach the metric each page states.
* ``full``  -- a GPU: reference-quality results.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TypeVar

from torchflow.config import ConfigError, choice

BUDGET_ENV = "TORCHFLOW_BUDGET"
BUDGETS = ("smoke", "cpu", "full")
DEFAULT_BUDGET = "cpu"

T = TypeVar("T")


class BudgetError(ConfigError):
    """An unknown budget name."""


def get_budget() -> str:
    """Return the active budget, read from ``TORCHFLOW_BUDGET`` (default ``cpu``)."""
    return choice(BUDGET_ENV, BUDGETS, DEFAULT_BUDGET, BudgetError, "budget")


def scaled(*, smoke: T, cpu: T, full: T, budget: str | None = None) -> T:
    """Pick the value for the active budget, e.g. ``epochs = scaled(smoke=1, cpu=8, full=50)``."""
    name = get_budget() if budget is None else budget
    if name not in BUDGETS:
        raise BudgetError(f"unknown budget {name!r}; use one of {', '.join(BUDGETS)}")
    return {"smoke": smoke, "cpu": cpu, "full": full}[name]


class Settings(SimpleNamespace):
    """A page's hyperparameters, declared once (``hp = Settings(steps=scaled(...), ...)``): attribute access like
    :class:`types.SimpleNamespace`, displayed one field per line so that a page's output fits its column."""

    def __repr__(self) -> str:
        width = max((len(k) for k in vars(self)), default=0)
        lines = [f"{key:<{width}} = {value!r}" for key, value in vars(self).items()]
        return "\n".join(line if len(line) <= 88 else line[:85] + "..." for line in lines)
