"""The run budget: one switch that scales how much every example trains.

``TORCHFLOW_BUDGET`` selects it:

* ``smoke`` -- seconds per example; the test-suite runs every example this way.
* ``cpu``   -- the default: a minute or two per example on two CPU cores, and
  still good enough to reach the metric each page states.
* ``full``  -- a GPU: reference-quality results.
"""

from __future__ import annotations

import os
from typing import TypeVar

BUDGET_ENV = "TORCHFLOW_BUDGET"
BUDGETS = ("smoke", "cpu", "full")
DEFAULT_BUDGET = "cpu"

T = TypeVar("T")


class BudgetError(ValueError):
    """An unknown budget name."""


def get_budget() -> str:
    """Return the active budget, read from ``TORCHFLOW_BUDGET`` (default ``cpu``)."""
    name = os.environ.get(BUDGET_ENV, DEFAULT_BUDGET).strip().lower() or DEFAULT_BUDGET
    if name not in BUDGETS:
        raise BudgetError(
            f"unknown budget {name!r} in ${BUDGET_ENV}; use one of {', '.join(BUDGETS)} "
            f"(e.g. `export {BUDGET_ENV}=cpu`)"
        )
    return name


def scaled(*, smoke: T, cpu: T, full: T, budget: str | None = None) -> T:
    """Pick the value for the active budget, e.g. ``epochs = scaled(smoke=1, cpu=8, full=50)``."""
    name = get_budget() if budget is None else budget
    if name not in BUDGETS:
        raise BudgetError(f"unknown budget {name!r}; use one of {', '.join(BUDGETS)}")
    return {"smoke": smoke, "cpu": cpu, "full": full}[name]
