"""What built a page: budget, versions, device, data, wall time, and each twin's results.

Every example opens a :class:`Run`, records what each twin reached, and ends
with :meth:`Run.finish`, which prints the stamp onto the page and writes a JSON
record that the book's comparison page collects.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from torchflow.budget import get_budget

RECORDS_ENV = "TORCHFLOW_RECORDS"


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


@dataclass
class TwinResult:
    framework: str
    metrics: dict[str, float]
    seconds_per_step: float | None = None
    train_seconds: float | None = None
    peak_memory_mb: float | None = None
    device: str | None = None


def _threads() -> str:
    """The threads each framework may use here: fewer than the cores when examples run in parallel."""
    count = os.environ.get("OMP_NUM_THREADS", str(os.cpu_count()))
    return f"{count} thread" + ("" if count == "1" else "s")


@dataclass
class Run:
    """One example's run: ``run = Run("vae")`` at the top, ``run.finish()`` at the end."""

    name: str
    budget: str = field(default_factory=get_budget)
    started: float = field(default_factory=time.perf_counter)
    date: str = field(default_factory=lambda: _dt.datetime.now().isoformat(timespec="seconds"))
    twins: list[TwinResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)

    def use_data(self, description: str) -> None:
        """Note the data this run trained on (from the loader's own record)."""
        if description not in self.data:
            self.data.append(description)

    def record(self, framework: str, metrics: dict[str, float], **extra: Any) -> TwinResult:
        """Record what one twin reached (metrics, seconds per step, device, ...)."""
        result = TwinResult(
            framework=framework,
            metrics={k: float(v) for k, v in metrics.items()},
            peak_memory_mb=round(peak_memory_mb(), 1),
            **extra,
        )
        self.twins.append(result)
        return result

    def skip(self, framework: str) -> None:
        self.skipped.append(framework)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "budget": self.budget,
            "date": self.date,
            "wall_seconds": round(time.perf_counter() - self.started, 2),
            "versions": library_versions(),
            "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {_threads()}",
            "data": self.data,
            "twins": [asdict(t) for t in self.twins],
            "skipped": self.skipped,
        }

    def stamp(self) -> str:
        info = self.as_dict()
        lines = [
            f"Built with the {info['budget']!r} budget on {info['date']} "
            f"in {info['wall_seconds']:.1f} s ({info['platform']}).",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()) + ".",
        ]
        lines += [f"Data: {d}" for d in info["data"]]
        for twin in self.twins:
            metrics = ", ".join(f"{k} = {v:.4g}" for k, v in twin.metrics.items())
            step = f", {1000 * twin.seconds_per_step:.2f} ms/step" if twin.seconds_per_step else ""
            lines.append(
                f"{twin.framework} on {twin.device or '?'}: {metrics}{step}, "
                f"peak memory {twin.peak_memory_mb:.0f} MB"
            )
        lines += [f"{name}: skipped (not available here)" for name in self.skipped]
        return "\n".join(lines)

    def finish(self) -> dict[str, Any]:
        """Print the stamp and write the JSON record; returns the record."""
        print(self.stamp())
        info = self.as_dict()
        directory = os.environ.get(RECORDS_ENV)
        if directory:
            path = Path(directory)
            path.mkdir(parents=True, exist_ok=True)
            tmp = path / f".{self.name}.json.tmp"
            tmp.write_text(json.dumps(info, indent=2))
            tmp.replace(path / f"{self.name}.json")
        return info
