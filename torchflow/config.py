"""Every ``TORCHFLOW_*`` switch, read by one parser with one set of rules.

The rules, the same for every variable:

* the value is stripped of surrounding spaces and compared case-insensitively;
* unset and empty mean the same thing: the documented default;
* a yes/no switch accepts exactly ``1``, ``true``, ``yes``, ``on`` (yes) and ``0``, ``false``, ``no``,
  ``off`` (no); anything else is an error, never a silent "no";
* a list is comma-separated; empty items are ignored, but a list that names nothing while set
  (``TORCHFLOW_FRAMEWORKS=,``) is an error;
* a wrong value raises :class:`ConfigError` naming the variable, the value and what it accepts.

:func:`check` validates every switch at once; :class:`torchflow.Run` calls it when a page starts, so
a typo fails in the first second, never after training.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

YES = ("1", "true", "yes", "on")
NO = ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A ``TORCHFLOW_*`` variable with a value it does not accept; the message names the fix."""


def raw(name: str) -> str:
    """The variable's value, stripped and lower-cased; ``""`` when unset or empty."""
    return os.environ.get(name, "").strip().lower()


def flag(name: str, default: bool = False) -> bool:
    """A yes/no switch (see the module's rules)."""
    value = raw(name)
    if not value:
        return default
    if value in YES:
        return True
    if value in NO:
        return False
    raise ConfigError(f"{name}={os.environ[name]!r} is not a yes/no value: use one of {', '.join(YES)} "
                      f"(yes) or {', '.join(NO)} (no), or leave it unset ({'yes' if default else 'no'})")


def choice(name: str, choices: Sequence[str], default: str, error: type[ConfigError] = ConfigError,
           what: str = "value") -> str:
    """One of ``choices``; ``default`` when unset or empty; ``what`` names the kind of value in messages."""
    value = raw(name) or default
    if value not in choices:
        raise error(f"unknown {what} {value!r} in ${name}; use one of {', '.join(choices)} "
                    f"(e.g. `export {name}={default}`)")
    return value


def number(name: str, default: float, *, minimum: float | None = None, integer: bool = False) -> float:
    """A number (``integer``: a whole number) of at least ``minimum``; ``default`` when unset or empty."""
    value = raw(name)
    if not value:
        return default
    try:
        parsed: float = int(value) if integer else float(value)
    except ValueError:
        raise ConfigError(f"{name}={os.environ[name]!r} is not {'a whole number' if integer else 'a number'}; "
                          f"unset it for the default ({default:g})") from None
    if parsed != parsed or (minimum is not None and parsed < minimum):  # NaN, or too small
        raise ConfigError(f"{name}={os.environ[name]!r} must be at least {minimum:g}; unset it for the default "
                          f"({default:g})")
    return parsed


def words(name: str) -> tuple[str, ...]:
    """A comma-separated list; ``()`` when unset or empty; an error when set but naming nothing."""
    value = raw(name)
    if not value:
        return ()
    items = tuple(part.strip() for part in value.split(",") if part.strip())
    if not items:
        raise ConfigError(f"{name}={os.environ[name]!r} names nothing; unset it for the default")
    return items


def check() -> None:
    """Validate every switch now (each module's own reader, so the rules cannot drift apart)."""
    from torchflow import budget, device, frameworks
    from torchflow.data import store

    budget.get_budget()
    device.requested_device()
    frameworks.requested()
    store.offline()
    store.network_timeout()
    store.allowed_sources()
