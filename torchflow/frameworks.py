"""Which of the two frameworks can run here.

An example runs the twin of every framework that imports, and says so visibly
when one is missing. ``TORCHFLOW_FRAMEWORKS=torch`` (or ``tensorflow``) narrows
the choice on a machine that has both.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys

FRAMEWORKS = ("torch", "tensorflow")
FRAMEWORKS_ENV = "TORCHFLOW_FRAMEWORKS"
# The one table of display names, used by every page, plot and the comparison page.
LABELS = {"torch": "PyTorch", "tensorflow": "TensorFlow"}
_INSTALL = {"torch": "pip install torch torchvision", "tensorflow": "pip install tensorflow"}


def _requested() -> tuple[str, ...]:
    raw = os.environ.get(FRAMEWORKS_ENV, "").strip()
    if not raw:
        return FRAMEWORKS
    names = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    aliases = {"pt": "torch", "pytorch": "torch", "tf": "tensorflow"}
    names = tuple(aliases.get(n, n) for n in names)
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown:
        raise ValueError(
            f"unknown framework {unknown[0]!r} in ${FRAMEWORKS_ENV}; use a comma-separated "
            f"subset of {', '.join(FRAMEWORKS)}"
        )
    return names


def _importable(name: str) -> bool:
    try:
        if importlib.util.find_spec(name) is None:
            return False
        importlib.import_module(name)
    except Exception:  # an import that fails for any reason means: not usable here
        return False
    return True


def load_in_safe_order() -> None:
    """Import PyTorch (and Triton, which CUDA builds of PyTorch load lazily) before TensorFlow.

    Triton's LLVM crashes the process (a segmentation fault) when it is loaded
    after TensorFlow; loaded first, both work. Every example calls this through
    :func:`available_frameworks`, so the order holds whatever it imports next.
    """
    if sys.modules.get("tensorflow") is not None and "triton" not in sys.modules and importlib.util.find_spec("triton"):
        raise RuntimeError(
            "TensorFlow was imported before PyTorch's Triton, which then crashes; "
            "call torchflow.available_frameworks() (or import torch) before importing tensorflow"
        )
    if "torch" in _requested() and _importable("torch") and importlib.util.find_spec("triton"):
        with contextlib.suppress(Exception):
            importlib.import_module("triton")


def framework_available(name: str) -> bool:
    """True when ``name`` (``"torch"`` or ``"tensorflow"``) imports and is not switched off."""
    if name not in FRAMEWORKS:
        raise ValueError(f"unknown framework {name!r}; use one of {', '.join(FRAMEWORKS)}")
    if name == "tensorflow":
        load_in_safe_order()
    return name in _requested() and _importable(name)


def available_frameworks() -> list[str]:
    """The frameworks an example will run here, in the book's order (PyTorch first)."""
    return [name for name in FRAMEWORKS if framework_available(name)]


def skip_note(name: str) -> str:
    """The visible note an example prints for a framework that it skips."""
    why = "switched off by $" + FRAMEWORKS_ENV if name not in _requested() else "not installed"
    return (
        f"NOTE: the {LABELS[name]} twin was skipped: {name} is {why} here "
        f"(to run it: `{_INSTALL[name]}`)."
    )


def label(name: str) -> str:
    """Human name of a framework: ``"PyTorch"`` or ``"TensorFlow"``."""
    return LABELS[name]
