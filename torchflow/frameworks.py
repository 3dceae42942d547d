"""Which of the two frameworks can run here.

An example runs the twin of every framework that imports, and says so visibly
when one is missing. ``TORCHFLOW_FRAMEWORKS=torch`` (or ``tensorflow``) narrows
the choice on a machine that has both.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import warnings

from torchflow.config import ConfigError, words

FRAMEWORKS = ("torch", "tensorflow")
FRAMEWORKS_ENV = "TORCHFLOW_FRAMEWORKS"
# The one table of display names, used by every page, plot and the comparison page.
LABELS = {"torch": "PyTorch", "tensorflow": "TensorFlow"}
_INSTALL = {"torch": "pip install torch torchvision", "tensorflow": "pip install tensorflow"}


def requested() -> tuple[str, ...]:
    """The frameworks ``TORCHFLOW_FRAMEWORKS`` asks for (default both), checked."""
    names = words(FRAMEWORKS_ENV)
    if not names:
        return FRAMEWORKS
    aliases = {"pt": "torch", "pytorch": "torch", "tf": "tensorflow"}
    names = tuple(aliases.get(n, n) for n in names)
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown:
        raise ConfigError(
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


def load_in_safe_order(strict: bool = False) -> None:
    """Make PyTorch and TensorFlow safe to use in one process, in any order.

    Why: TensorFlow >= 2.20's wheels load their library with ``RTLD_GLOBAL``, which
    puts TensorFlow's own LLVM into the process's global symbols; Triton (which a
    CUDA build of PyTorch imports lazily, on the first ``torch.optim`` optimiser)
    then binds its LLVM calls to TensorFlow's copy and the process dies with a
    segmentation fault, without a Python traceback. Loading Triton *before*
    TensorFlow avoids it (tensorflow/tensorflow#124205, fixed upstream by PR #124230
    for releases after 2.21; remove this once the book requires such a release).
    ``import torchflow`` calls this, so it holds whatever the reader imports next.
    Where TensorFlow came first it is too late: a warning at import, an error
    (``strict``) when an example asks for the PyTorch twin.
    """
    if sys.modules.get("triton") is not None or importlib.util.find_spec("triton") is None:
        return  # already safe, or a PyTorch build without Triton (CPU wheels, macOS)
    if sys.modules.get("tensorflow") is not None:
        if strict:
            raise RuntimeError(TRITON_AFTER_TENSORFLOW)
        warnings.warn(TRITON_AFTER_TENSORFLOW, RuntimeWarning, stacklevel=3)
    elif importlib.util.find_spec("tensorflow") is not None:
        with contextlib.suppress(Exception):
            importlib.import_module("triton")


TRITON_AFTER_TENSORFLOW = (
    "TensorFlow was imported before torchflow, and PyTorch's Triton will crash this process "
    "(a segmentation fault, tensorflow issue #124205) when a PyTorch optimiser is created: "
    "import torchflow (or triton) before tensorflow"
)


def framework_available(name: str) -> bool:
    """True when ``name`` (``"torch"`` or ``"tensorflow"``) imports and is not switched off."""
    if name not in FRAMEWORKS:
        raise ValueError(f"unknown framework {name!r}; use one of {', '.join(FRAMEWORKS)}")
    if name not in requested() or not _importable(name):
        return False
    if name == "torch":  # whatever the switch says: TensorFlow may have been imported by the reader
        load_in_safe_order(strict=True)
    return True


def available_frameworks() -> list[str]:
    """The frameworks an example will run here, in the book's order (PyTorch first)."""
    return [name for name in FRAMEWORKS if framework_available(name)]


def skip_note(name: str) -> str:
    """The visible note an example prints for a framework that it skips."""
    why = "switched off by $" + FRAMEWORKS_ENV if name not in requested() else "not installed"
    return (
        f"NOTE: the {LABELS[name]} twin was skipped: {name} is {why} here "
        f"(to run it: `{_INSTALL[name]}`)."
    )


def label(name: str) -> str:
    """Human name of a framework: ``"PyTorch"`` or ``"TensorFlow"``."""
    return LABELS[name]


def reset_between_pages() -> None:
    """Between two pages run in one interpreter: closed figures, a fresh Keras session, fresh seeds.

    The book's docs build runs every page in one process (sphinx-gallery), and so do the tests'
    page runs (``tests/pages.py``); both call this after each page, so what one page leaves behind
    (open figures, Keras' layer-name counters and graphs, PyTorch's flush-denormal mode, which the VAE
    pages turn on) does not reach the next.
    """
    if sys.modules.get("matplotlib.pyplot") is not None:
        sys.modules["matplotlib.pyplot"].close("all")
    if sys.modules.get("torch") is not None:
        sys.modules["torch"].set_flush_denormal(False)
    if sys.modules.get("tensorflow") is not None:
        import keras

        keras.backend.clear_session()
    from torchflow.seed import seed_everything

    seed_everything(0)
