"""What produced a page's numbers: library versions, machine, threads, peak memory.

Framework-free; :class:`torchflow.run.Run` prints it as the page's stamp and
stores it in the page's record.
"""

from __future__ import annotations

import os
import platform
import resource
import sys


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def library_versions() -> dict[str, str]:
    """Versions of Python, NumPy and whichever frameworks are imported."""
    import numpy as np

    versions = {"python": platform.python_version(), "numpy": np.__version__}
    if sys.modules.get("torch") is not None:
        versions["torch"] = sys.modules["torch"].__version__
    if sys.modules.get("tensorflow") is not None:
        versions["tensorflow"] = sys.modules["tensorflow"].__version__
        import keras

        versions["keras"] = keras.__version__
    return versions


def threads() -> str:
    """The threads each framework may use here: fewer than the cores when examples run in parallel."""
    count = os.environ.get("OMP_NUM_THREADS", str(os.cpu_count()))
    return f"{count} thread" + ("" if count == "1" else "s")


def machine() -> str:
    """``Linux x86_64, 2 cores, 1 thread``."""
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {threads()}"


def book_version() -> str:
    """``0.1.0 (commit 1a2b3c4)``: the package's version and, in a git checkout, the commit (``+`` when the
    working tree has uncommitted changes); the version alone where there is no checkout or no git."""
    import subprocess
    from pathlib import Path

    from torchflow import __version__

    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return __version__
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=7", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__} (commit {commit}{'+' if dirty else ''})"
