"""What built a page: budget, versions, device, data, wall time, each twin's results and targets.

Every example opens a :class:`Run` and keeps its bookkeeping there, so that the
page shows the lesson, not the plumbing:

* ``run.expect(metric, at_least=...)`` declares a target the page states;
* ``if run.trains("torch"):`` guards a twin (a missing framework prints a visible note);
* ``run.use_data(train, test)`` records and prints the data actually used;
* ``run.record_all(results, metrics)`` records each twin's metrics and ms/step;
* ``run.verdict()`` shows, at the top of the results, whether every target was reached;
* ``run.finish()`` prints the stamp onto the page and writes the JSON record that
  the comparison page and ``nox -s docs``'s list of missed targets read.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from torchflow.budget import get_budget
from torchflow.frameworks import LABELS, available_frameworks, skip_note

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


@dataclass(frozen=True)
class Target:
    """A number a page promises: ``metric`` at least (or at most) ``bound``, for every twin."""

    metric: str
    bound: float
    higher_is_better: bool = True

    def met(self, value: float) -> bool:
        return value >= self.bound if self.higher_is_better else value <= self.bound

    def __str__(self) -> str:
        return f"{self.metric} {'≥' if self.higher_is_better else '≤'} {self.bound:g}"


@dataclass
class Verdict:
    """Whether a run reached its targets; renders as an admonition at the top of a page's results."""

    budget: str
    data: list[str]
    reached: list[str]
    misses: list[str]
    subset: bool

    @property
    def ok(self) -> bool:
        return not self.misses

    def why(self) -> str:
        source = ("the small embedded data subset" if self.subset else "the full data")
        return f"'{self.budget}' budget, trained on {source}"

    def __repr__(self) -> str:
        if not self.misses and not self.reached:
            return f"No target is stated for the '{self.budget}' budget."
        if self.ok:
            return "Every target reached (" + self.why() + "):\n" + "\n".join(f"  ✓ {r}" for r in self.reached)
        lines = [f"Target missed ({self.why()}):", *(f"  ✗ {m}" for m in self.misses),
                 *(f"  ✓ {r}" for r in self.reached)]
        if self.subset:
            lines.append("  The targets are stated for the full data: see README.md, 'Data', to get it.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        kind, title = ("tip", "Targets reached") if self.ok else ("warning", "Target missed")
        if not self.misses and not self.reached:
            kind, title = "note", "No target in this budget"
        body = "".join(f"<li>✗ {html.escape(m)}</li>" for m in self.misses)
        body += "".join(f"<li>✓ {html.escape(r)}</li>" for r in self.reached)
        more = ("<p>The targets are stated for the full data: see the README's <em>Data</em> section "
                "to get it.</p>" if self.subset and self.misses else "")
        return (f'<div class="admonition {kind}"><p class="admonition-title">{title}</p>'
                f"<p>{html.escape(self.why())}.</p><ul>{body}</ul>{more}</div>")


def _calling_page() -> str:
    """The example that opened the run (``plot_1_vae``): the script being run (sphinx-gallery sets
    ``sys.argv[0]`` to it, as ``python plot_1_vae.py`` does); empty elsewhere (a notebook)."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    return script.stem if script is not None and script.suffix == ".py" and script.stem.startswith("plot_") else ""


def _describe(dataset: Any) -> str:
    return dataset.describe() if hasattr(dataset, "describe") else str(dataset)


def _is_subset(dataset: Any) -> bool:
    """Whether a loaded dataset is a subset standing in for the full data (from the loader's record)."""
    info = getattr(dataset, "info", None)
    if info is None:
        return False
    flag = getattr(info, "is_subset", None)
    return bool(flag) if flag is not None else bool(getattr(info, "note", ""))


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
    targets: list[Target] = field(default_factory=list)
    subset: bool = False
    page: str = field(default_factory=lambda: _calling_page())

    # ------------------------------------------------------------ before training
    def expect(self, metric: str, *, at_least: float | None = None, at_most: float | None = None) -> Target | None:
        """Declare a target the page states (``None``: no target in this budget, e.g. ``smoke``)."""
        if (at_least is None) == (at_most is None):
            if at_least is None:
                return None
            raise ValueError("give at_least or at_most, not both")
        target = Target(metric, float(at_least if at_least is not None else at_most), at_least is not None)
        self.targets.append(target)
        return target

    def trains(self, framework: str) -> bool:
        """True when ``framework``'s twin can run here; otherwise print why it is skipped and note it."""
        if framework in available_frameworks():
            return True
        self.skip(framework)
        return False

    def use_data(self, *datasets: Any) -> None:
        """Record and print the data this run trained on (from each loader's own record)."""
        for dataset in datasets:
            description = _describe(dataset)
            self.subset = self.subset or _is_subset(dataset)
            if description not in self.data:
                self.data.append(description)
                print(description)

    # ------------------------------------------------------------ after training
    def record(self, framework: str, metrics: Mapping[str, float], **extra: Any) -> TwinResult:
        """Record what one twin reached (metrics, seconds per step, device, ...)."""
        result = TwinResult(
            framework=framework,
            metrics={k: float(v) for k, v in metrics.items()},
            peak_memory_mb=round(peak_memory_mb(), 1),
            **extra,
        )
        self.twins.append(result)
        return result

    def record_all(self, results: Mapping[str, Mapping[str, Any]],
                   metrics: Callable[[Mapping[str, Any]], Mapping[str, float]]) -> None:
        """Record every twin of ``results`` (``{framework: result}``): ``metrics(result)``, and its
        ``result["clock"]`` (a :class:`~torchflow.training.StepClock`: ms/step) and ``result["device"]``."""
        for framework, result in results.items():
            clock = result.get("clock")
            self.record(framework, metrics(result), device=result.get("device"),
                        seconds_per_step=getattr(clock, "seconds_per_step", None),
                        train_seconds=getattr(clock, "total_seconds", None))

    def skip(self, framework: str) -> None:
        """Note a twin that did not run, with the visible note (see :meth:`trains`)."""
        print(skip_note(framework))
        if framework not in self.skipped:
            self.skipped.append(framework)

    def verdict(self) -> Verdict:
        """Each target against each recorded twin: what was reached and what was missed."""
        reached, misses = [], []
        for target in self.targets:
            for twin in self.twins:
                label = LABELS.get(twin.framework, twin.framework)
                if target.metric not in twin.metrics:
                    misses.append(f"{label}: {target.metric} was not measured (target {target})")
                    continue
                value = twin.metrics[target.metric]
                line = f"{label}: {target.metric} = {value:.4g} (target {target})"
                (reached if target.met(value) else misses).append(line)
        return Verdict(self.budget, list(self.data), reached, misses, self.subset)

    def as_dict(self) -> dict[str, Any]:
        verdict = self.verdict()
        return {
            "name": self.name,
            "page": self.page or self.name,
            "budget": self.budget,
            "date": self.date,
            "wall_seconds": round(time.perf_counter() - self.started, 2),
            "versions": library_versions(),
            "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {_threads()}",
            "data": self.data,
            "data_subset": self.subset,
            "twins": [asdict(t) for t in self.twins],
            "skipped": self.skipped,
            "targets": [str(t) for t in self.targets],
            "misses": verdict.misses,
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
        lines += [f"MISSED: {miss}" for miss in info["misses"]]
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
