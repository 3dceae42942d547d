"""A page's run: its targets next to the strongest cheap baselines, both twins, their noise, and its record.

Every example opens one :class:`Run` and keeps its bookkeeping there, so that the
page shows the lesson, not the plumbing::

    run = torchflow.Run()                       # the page id is the script's name (plot_4_char_rnn)
    run.baseline(BPC, five_gram, "interpolated character 5-gram", noise=se)   # computed on the page
    run.expect(BPC, below_baseline_by=torchflow.scaled(smoke=None, cpu=0.0, full=0.3))
    run.chosen_by("learning rate 3e-3", study="studies/rnn/hyperparameters/results.md", evidence="validation bits/char")
    if run.trains("torch"):                     # a missing framework prints a visible note instead
        twin = run.twin("torch")                # its device (TORCHFLOW_DEVICE), clock and label
        ...                                     # the training step, with `with twin.clock:` around it
        twin.record({BPC: bpc}, noise={BPC: se})
    run.verdict()                               # the box: target, baseline, both twins, noise, met or missed
    run.compare()                               # the twins' metrics and ms per step, side by side
    run.finish()                                # the stamp and the JSON record the comparison page reads

What a verdict means:

* a **target** is a bound on a metric, absolute (``at_least`` / ``at_most``) or
  relative to the strongest baseline of that metric (``above_baseline_by`` /
  ``below_baseline_by``: the twin must beat the baseline by that margin);
* a **baseline** is what a specialist would try first, computed on the page in
  the same build on the same split. Its ``kind`` says what it is for:
  ``"model"`` (a cheap model -- n-gram, lookup, linear, nearest neighbour: the
  network must beat it),
  ``"copy"`` (training images copied, class prototypes: no generator should be
  credited for them, but the network is not asked to beat them on every metric)
  or ``"floor"`` (real data against
  real data: the best reachable value, shown for scale);
* **noise** is each number's standard error (binomial for an accuracy on n test
  items, over chunks or seeds otherwise); a verdict whose margin is inside two
  standard errors says "within noise";
* the targets are **weak** when one baseline (``model`` or ``copy``) meets every
  one of them: then they do not tell the network from it. A single target met
  by a baseline is only noted (copies have perfect precision, say; recall and
  the memorisation ratio are what fail them).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from torchflow.budget import get_budget
from torchflow.frameworks import LABELS, available_frameworks, skip_note
from torchflow.provenance import book_version, library_versions, machine, peak_memory_mb

RECORDS_ENV = "TORCHFLOW_RECORDS"
KINDS = ("model", "copy", "floor")
NOISE_SIGMAS = 2.0  # a margin inside two standard errors is "within noise"
_UNSET = object()
# the page's column is narrow: equal columns that wrap, in a smaller font, so no table scrolls sideways
_FIT = "font-size:85%;width:100%;table-layout:fixed;overflow-wrap:anywhere"


@dataclass
class TwinResult:
    framework: str
    metrics: dict[str, float]
    seconds_per_step: float | None = None
    train_seconds: float | None = None
    peak_memory_mb: float | None = None
    device: str | None = None
    noise: dict[str, float] = field(default_factory=dict)
    mode: str | None = None  # how the step ran: "eager", "tf.function", "XLA", "torch.compile"
    flops_per_step: float | None = None  # counted on a PyTorch step (torchflow.speed); the twins share the model
    flops_uncounted: list[str] = field(default_factory=list)  # recurrent kernels left out of it: a lower bound


@dataclass(frozen=True)
class Baseline:
    """A value of ``metric`` reached without the network, computed on the page (see the module docstring)."""

    metric: str
    value: float
    name: str
    noise: float | None = None
    kind: str = "model"

    def __str__(self) -> str:
        return f"{self.name} {_with_noise(self.value, self.noise)}"


@dataclass(frozen=True)
class Target:
    """A number a page promises for every twin: ``metric`` at least / at most ``bound``, or better than the
    strongest ``model`` baseline of that metric by ``bound`` (``relative``)."""

    metric: str
    bound: float
    higher_is_better: bool = True
    relative: bool = False

    def threshold(self, baseline: Baseline | None) -> float:
        if not self.relative:
            return self.bound
        if baseline is None:
            raise ValueError(f"the target on {self.metric!r} is relative to a baseline, but none was declared: "
                             f"call run.baseline({self.metric!r}, value, name) first")
        return baseline.value + self.bound if self.higher_is_better else baseline.value - self.bound

    def met(self, value: float, baseline: Baseline | None = None) -> bool:
        bound = self.threshold(baseline)
        return value >= bound if self.higher_is_better else value <= bound

    def describe(self, baseline: Baseline | None = None) -> str:
        sign = "≥" if self.higher_is_better else "≤"
        if not self.relative:
            return f"{sign} {self.bound:.4g}"
        if baseline is None:
            return f"{'above' if self.higher_is_better else 'below'} the strongest baseline by {self.bound:.4g}"
        margin = f" {'+' if self.higher_is_better else '−'} {self.bound:.4g}" if self.bound else ""
        return f"{sign} {baseline.name}{margin} = {self.threshold(baseline):.4g}"

    def __str__(self) -> str:
        return f"{self.metric} {self.describe()}"


@dataclass(frozen=True)
class Choice:
    """A page setting chosen by a study on validation data (never on the test set)."""

    setting: str
    study: str
    evidence: str = ""

    def __str__(self) -> str:
        return f"{self.setting} ({self.study}{': ' + self.evidence if self.evidence else ''})"


def _with_noise(value: float | None, noise: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.4g}" + (f" ± {noise:.2g}" if noise else "")


@dataclass
class Check:
    """One twin against one target: the value, its noise, the threshold and the outcome."""

    twin: str
    value: float | None
    noise: float | None
    threshold: float
    met: bool
    within_noise: bool

    @property
    def outcome(self) -> str:
        if self.value is None:
            return "not measured"
        return ("met" if self.met else "missed") + (", within noise" if self.within_noise else "")


@dataclass
class Row:
    """A target of the verdict box with its baselines and each twin's check."""

    metric: str
    target: str
    baseline: Baseline | None
    checks: list[Check]
    weak: list[Baseline]  # baselines that meet this target too

    @property
    def met(self) -> bool:
        return all(check.met for check in self.checks)


@dataclass
class Verdict:
    """Whether a run reached its targets and beat its baselines; renders as the box at the top of the results."""

    budget: str
    data: list[str]
    rows: list[Row]
    below_baseline: list[str]
    subset: bool
    chosen: list[Choice] = field(default_factory=list)
    floors: list[Baseline] = field(default_factory=list)

    @property
    def misses(self) -> list[str]:
        return [f"{LABELS.get(c.twin, c.twin)}: {row.metric} = {_with_noise(c.value, c.noise)} "
                f"(target {row.metric} {row.target}{'; within noise' if c.within_noise else ''})"
                for row in self.rows for c in row.checks if not c.met]

    @property
    def reached(self) -> list[str]:
        return [f"{LABELS.get(c.twin, c.twin)}: {row.metric} = {_with_noise(c.value, c.noise)} "
                f"(target {row.metric} {row.target}{'; within noise' if c.within_noise else ''})"
                for row in self.rows for c in row.checks if c.met]

    @property
    def weak_targets(self) -> list[str]:
        """One line per baseline that meets every target: the targets do not tell the network from it."""
        if not self.rows:
            return []
        met_by = [{b.name for b in row.weak} for row in self.rows]
        names = set.intersection(*met_by)
        return [f"{name} meets every target too ({', '.join(row.metric for row in self.rows)}): the targets do not "
                "tell the network from it" for name in sorted(names)]

    @property
    def also_met(self) -> list[str]:
        """Each target with the baselines that meet it too (a note: together the targets may still separate)."""
        return [f"{row.metric} {row.target} is met by {', '.join(b.name for b in row.weak)} too"
                for row in self.rows if row.weak]

    @property
    def ok(self) -> bool:
        return not self.misses

    def why(self) -> str:
        source = "the small embedded data subset" if self.subset else "the full data"
        return f"'{self.budget}' budget, trained on {source}"

    def _title(self) -> tuple[str, str]:
        if not self.rows:
            return "note", "No target in this budget"
        if not self.ok:
            return "warning", "Target missed"
        if self.below_baseline:
            return "warning", "Targets reached, but a baseline is not beaten"
        return "tip", "Targets reached"

    def lines(self) -> list[str]:
        """The box as plain text lines (what a terminal shows)."""
        out = []
        for row in self.rows:
            base = f"; baseline {row.baseline}" if row.baseline else ""
            out.append(f"{row.metric} {row.target}{base}")
            out += [f"  {'✓' if c.met else '✗'} {LABELS.get(c.twin, c.twin)} {_with_noise(c.value, c.noise)}: "
                    f"{c.outcome}" for c in row.checks]
        out += [f"  ✗ {line}" for line in self.below_baseline]
        out += [f"  ! weak targets: {line}" for line in self.weak_targets]
        out += [f"  note: {line}" for line in self.also_met]
        out += [f"  floor (real data): {floor}" for floor in self.floors]
        out += [f"  chosen on validation: {choice}" for choice in self.chosen]
        return out

    def __repr__(self) -> str:
        kind, title = self._title()
        if not self.rows:
            return f"No target is stated for the '{self.budget}' budget."
        lines = [f"{title} ({self.why()}):", *self.lines()]
        if self.subset and not self.ok:
            lines.append("  The targets are stated for the full data: see README.md, 'Data', to get it.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        kind, title = self._title()
        twins = list(dict.fromkeys(c.twin for row in self.rows for c in row.checks))
        head = "".join(f"<th>{html.escape(LABELS.get(t, t))}</th>" for t in twins)
        body = ""
        for row in self.rows:
            cells = ""
            for twin in twins:
                check = next((c for c in row.checks if c.twin == twin), None)
                cells += ("<td>–</td>" if check is None else
                          f"<td>{'✓' if check.met else '✗'} {html.escape(_with_noise(check.value, check.noise))}"
                          f"<br><small>{html.escape(check.outcome)}</small></td>")
            base = html.escape(str(row.baseline)) if row.baseline else "none declared"
            body += (f"<tr><td>{html.escape(row.metric)}</td><td>{html.escape(row.target)}</td>"
                     f"<td>{base}</td>{cells}</tr>")
        table = (f'<table class="table torchflow-verdict" style="{_FIT}"><thead><tr><th>metric</th><th>target</th>'
                 f"<th>strongest baseline</th>{head}</tr></thead><tbody>{body}</tbody></table>")
        notes = "".join(f"<li>✗ {html.escape(line)}</li>" for line in self.below_baseline)
        notes += "".join(f"<li>⚠ weak targets: {html.escape(line)}</li>" for line in self.weak_targets)
        notes += "".join(f"<li>note: {html.escape(line)}</li>" for line in self.also_met)
        notes += "".join(f"<li>floor (real data): {html.escape(str(f))}</li>" for f in self.floors)
        notes += "".join(f"<li>chosen on validation: {html.escape(str(c))}</li>" for c in self.chosen)
        more = ("<p>The targets are stated for the full data: see the README's <em>Data</em> section "
                "to get it.</p>" if self.subset and self.misses else "")
        return (f'<div class="admonition {kind}"><p class="admonition-title">{title}</p>'
                f"<p>{html.escape(self.why())}; ± one standard error; a margin inside "
                f"{NOISE_SIGMAS:g} standard errors is within noise.</p>{table}"
                f"{'<ul>' + notes + '</ul>' if notes else ''}{more}</div>")


@dataclass
class Comparison:
    """The twins' metrics and time per step side by side (``run.compare()``)."""

    rows: list[list[str]]
    header: list[str]

    def __repr__(self) -> str:
        widths = [max(len(r[i]) for r in [self.header, *self.rows]) for i in range(len(self.header))]
        return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                                    enumerate(zip(r, widths))) for r in [self.header, *self.rows])

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in self.rows)
        return (f'<table class="table torchflow-compare" style="{_FIT}"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")


def _calling_page() -> str:
    """The example that opened the run (``plot_1_vae``): the script being run (sphinx-gallery sets
    ``sys.argv[0]`` to it, as ``python plot_1_vae.py`` does); empty elsewhere (a notebook)."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    return script.stem if script is not None and script.suffix == ".py" and script.stem.startswith("plot_") else ""


def _describe(dataset: Any) -> str:
    return dataset.describe() if hasattr(dataset, "describe") else str(dataset)


def _short(dataset: Any) -> str:
    """``Fashion-MNIST (train), 60,000 items: the full data; MIT licence (Zalando Research)``."""
    info = getattr(dataset, "info", None)
    if info is None or not hasattr(info, "count"):
        return _describe(dataset)
    what = getattr(info, "what", "") or getattr(info, "source", "") or "the data"
    return f"{info.name} ({info.split}), {info.count:,} items: {what}; {info.licence}"


def _is_subset(dataset: Any) -> bool:
    """Whether a loaded dataset is a subset standing in for the full data (from the loader's record)."""
    info = getattr(dataset, "info", None)
    if info is None:
        return False
    flag = getattr(info, "is_subset", None)
    return bool(flag) if flag is not None else bool(getattr(info, "note", ""))


@dataclass
class Twin:
    """One twin's handle on the run: its device (from ``TORCHFLOW_DEVICE``), its step clock, its label."""

    framework: str
    device: Any
    clock: Any
    run: Run
    mode: str | None = None

    @property
    def label(self) -> str:
        return LABELS.get(self.framework, self.framework)

    def record(self, metrics: Mapping[str, float], *, noise: Mapping[str, float] | None = None,
               **extra: Any) -> TwinResult:
        """Record what this twin reached, with each metric's standard error where it is known."""
        return self.run.record(self.framework, metrics, noise=noise, device=str(self.device), mode=self.mode,
                               seconds_per_step=self.clock.seconds_per_step, train_seconds=self.clock.total_seconds,
                               flops_per_step=getattr(self.clock, "flops_per_step", None),
                               flops_uncounted=getattr(self.clock, "flops_uncounted", []), **extra)


def _device(framework: str) -> Any:
    from torchflow.device import tf_device, torch_device

    return torch_device() if framework == "torch" else tf_device()


@dataclass
class Run:
    """One example's run: ``run = Run()`` at the top, ``run.finish()`` at the end (see the module docstring).

    ``name`` is only the fallback id where there is no script (a notebook); a page's id is its script's name.
    """

    name: str | None = None
    budget: str = field(default_factory=get_budget)
    started: float = field(default_factory=time.perf_counter)
    date: str = field(default_factory=lambda: _dt.datetime.now().isoformat(timespec="seconds"))
    twins: list[TwinResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    baselines: list[Baseline] = field(default_factory=list)
    chosen: list[Choice] = field(default_factory=list)
    subset: bool = False
    page: str = field(default_factory=lambda: _calling_page())
    _directions: dict[str, bool] = field(default_factory=dict, repr=False)
    _data_short: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        from torchflow import config

        config.check()  # every TORCHFLOW_* switch, before anything trains
        if self.page:  # a page: one line under its title says what built it (the full stamp ends the page)
            print(f"TorchFlow {book_version()}, {self.budget!r} budget, {self.date[:10]}")

    @property
    def id(self) -> str:
        return self.page or self.name or "page"

    # ------------------------------------------------------------ before training
    def expect(self, metric: str, *, at_least: float | None | object = _UNSET, at_most: float | None | object = _UNSET,
               above_baseline_by: float | None | object = _UNSET,
               below_baseline_by: float | None | object = _UNSET) -> Target | None:
        """Declare a target the page states; ``None`` (e.g. from :func:`torchflow.scaled` in ``smoke``): none.

        ``above_baseline_by=m`` / ``below_baseline_by=m``: beat the strongest ``model`` baseline of ``metric``
        by ``m`` (``0``: beat it at all), higher / lower being better. The keyword says which way is better
        even when its value is ``None``, so that the metric's baselines are ranked in every budget.
        """
        given = {"at_least": at_least, "at_most": at_most, "above_baseline_by": above_baseline_by,
                 "below_baseline_by": below_baseline_by}
        chosen = [(key, value) for key, value in given.items() if value is not _UNSET and value is not None]
        if len(chosen) > 1:
            raise ValueError(f"give one of {', '.join(given)}, not {' and '.join(k for k, _ in chosen)}")
        for key, value in given.items():
            if value is not _UNSET:
                self._direction(metric, key in ("at_least", "above_baseline_by"))
        if not chosen:
            return None
        key, value = chosen[0]
        if not math.isfinite(float(value)):
            raise ValueError(f"the target on {metric!r} must be a finite number, got {value!r}")
        if key.endswith("baseline_by") and value < 0:
            raise ValueError(f"a margin over the baseline must be >= 0, got {value}")
        target = Target(metric, float(value), key in ("at_least", "above_baseline_by"),
                        relative=key.endswith("baseline_by"))
        self.targets.append(target)
        return target

    def baseline(self, metric: str, value: float, name: str, *, noise: float | None = None,
                 kind: str = "model", higher_is_better: bool | None = None) -> Baseline:
        """Record a baseline computed on the page (``kind``: ``model``, ``copy`` or ``floor``, see the module
        docstring). Its direction is the metric's target's, or ``higher_is_better``."""
        if kind not in KINDS:
            raise ValueError(f"unknown baseline kind {kind!r}; use one of {', '.join(KINDS)}")
        if not math.isfinite(float(value)):
            raise ValueError(f"baseline {name!r} of {metric!r} is not a finite number: {value!r}")
        if higher_is_better is not None:
            self._direction(metric, higher_is_better)
        entry = Baseline(metric, float(value), name, None if noise is None else float(noise), kind)
        self.baselines.append(entry)
        return entry

    def chosen_by(self, setting: str, study: str, evidence: str = "") -> Choice:
        """Record a setting that a study chose on validation data (shown in the verdict box and the record)."""
        choice = Choice(setting, study, evidence)
        self.chosen.append(choice)
        return choice

    def _direction(self, metric: str, higher: bool) -> None:
        if self._directions.setdefault(metric, higher) != higher:
            raise ValueError(f"{metric!r} was declared both higher-is-better and lower-is-better")

    def higher_is_better(self, metric: str) -> bool | None:
        return self._directions.get(metric)

    def trains(self, framework: str) -> bool:
        """True when ``framework``'s twin can run here; otherwise print why it is skipped and note it."""
        if framework in available_frameworks():
            return True
        self.skip(framework)
        return False

    def twin(self, framework: str, *, timer: Callable[[], float] | None = None, mode: str | None = None) -> Twin:
        """The handle of a twin that :meth:`trains`: its device, a fresh step clock (``timer``: e.g.
        ``time.process_time`` for CPU time) and ``record``; ``mode`` names how its step runs."""
        from torchflow.training import StepClock

        if framework not in available_frameworks():
            raise RuntimeError(f"the {LABELS.get(framework, framework)} twin cannot run here: "
                               f"guard it with `if run.trains({framework!r}):`")
        clock = StepClock(count_flops=framework == "torch")  # True: a PyTorch twin; False: TensorFlow
        if timer is not None:
            clock.timer = timer
        return Twin(framework, _device(framework), clock, self, mode)

    def use_data(self, *datasets: Any) -> None:
        """Record the data this run trained on (each loader's own record, in full: origin and why that source)
        and print it in short, once per dataset: name, split, count, what it is, licence. Why a source was
        passed over is for ``python -m torchflow.data plan``, not for the page."""
        for dataset in datasets:
            description = _describe(dataset)
            self.subset = self.subset or _is_subset(dataset)
            if description not in self.data:
                self.data.append(description)
                short = _short(dataset)
                if short not in self._data_short:
                    self._data_short.append(short)
                    print(textwrap.fill(short, width=88, subsequent_indent="    ", break_on_hyphens=False))

    # ------------------------------------------------------------ after training
    def record(self, framework: str, metrics: Mapping[str, float], *, noise: Mapping[str, float] | None = None,
               clock: Any = None, **extra: Any) -> TwinResult:
        """Record what one twin reached (metrics, their standard errors, seconds per step, device, ...).

        ``clock``: the twin's :class:`~torchflow.training.StepClock`, whose ms/step, training time and
        counted FLOPs are recorded (instead of giving ``seconds_per_step=`` and ``train_seconds=``)."""
        if clock is not None:
            extra = {"seconds_per_step": clock.seconds_per_step, "train_seconds": clock.total_seconds,
                     "flops_per_step": getattr(clock, "flops_per_step", None),
                     "flops_uncounted": list(getattr(clock, "flops_uncounted", [])), **extra}
        values = {k: float(v) for k, v in metrics.items()}
        unknown = set(noise or {}) - set(values)
        if unknown:
            raise ValueError(f"noise given for metrics that were not recorded: {sorted(unknown)}")
        result = TwinResult(framework=framework, metrics=values, peak_memory_mb=round(peak_memory_mb(), 1),
                            noise={k: float(v) for k, v in (noise or {}).items()}, **extra)
        self.twins = [t for t in self.twins if t.framework != framework] + [result]
        return result

    def record_all(self, results: Mapping[str, Mapping[str, Any]],
                   metrics: Callable[[Mapping[str, Any]], Mapping[str, float]]) -> None:
        """Record every twin of ``results`` (``{framework: result}``): ``metrics(result)``, and its
        ``result["clock"]`` (a :class:`~torchflow.training.StepClock`: ms/step) and ``result["device"]``.
        The older form of :meth:`Twin.record`."""
        for framework, result in results.items():
            clock = result.get("clock")
            self.record(framework, metrics(result), device=result.get("device"),
                        seconds_per_step=getattr(clock, "seconds_per_step", None),
                        train_seconds=getattr(clock, "total_seconds", None),
                        flops_per_step=getattr(clock, "flops_per_step", None),
                        flops_uncounted=getattr(clock, "flops_uncounted", []))

    def skip(self, framework: str) -> None:
        """Note a twin that did not run, with the visible note (see :meth:`trains`)."""
        print(skip_note(framework))
        if framework not in self.skipped:
            self.skipped.append(framework)

    def strongest_baseline(self, metric: str) -> Baseline | None:
        """The best ``model`` baseline of ``metric`` in its direction (``None`` if there is none)."""
        models = [b for b in self.baselines if b.metric == metric and b.kind == "model"]
        if not models:
            return None
        higher = self.higher_is_better(metric)
        if higher is None:
            raise ValueError(f"baselines of {metric!r} need a direction: declare a target on it or pass "
                             "higher_is_better= to run.baseline")
        return max(models, key=lambda b: b.value if higher else -b.value)

    def verdict(self) -> Verdict:
        """Each target against each recorded twin, with the baselines and the noise."""
        rows = []
        for target in self.targets:
            strongest = self.strongest_baseline(target.metric)
            threshold = target.threshold(strongest)
            checks = []
            for twin in self.twins:
                value = twin.metrics.get(target.metric)
                noise = twin.noise.get(target.metric)
                if value is None:
                    checks.append(Check(twin.framework, None, None, threshold, False, False))
                    continue
                spread = math.hypot(noise or 0.0, (strongest.noise or 0.0) if target.relative and strongest else 0.0)
                within = spread > 0 and abs(value - threshold) < NOISE_SIGMAS * spread
                checks.append(Check(twin.framework, value, noise, threshold, target.met(value, strongest), within))

            def meets(b: Baseline, target=target, strongest=strongest, threshold=threshold) -> bool:
                if not target.relative:
                    return target.met(b.value)
                beyond = b.value > threshold if target.higher_is_better else b.value < threshold
                return b is not strongest and beyond  # the baseline a relative target is measured from cannot

            weak = [b for b in self.baselines if b.metric == target.metric and b.kind != "floor" and meets(b)]
            rows.append(Row(target.metric, target.describe(strongest), strongest, checks, weak))
        below = []
        for metric in dict.fromkeys(b.metric for b in self.baselines if b.kind == "model"):
            strongest = self.strongest_baseline(metric)
            higher = self.higher_is_better(metric)
            for twin in self.twins:
                value = twin.metrics.get(metric)
                if value is None:
                    continue
                margin = (value - strongest.value) if higher else (strongest.value - value)
                spread = math.hypot(twin.noise.get(metric) or 0.0, strongest.noise or 0.0)
                label = LABELS.get(twin.framework, twin.framework)
                if margin <= 0:
                    below.append(f"{label} does not beat {strongest.name} on {metric}: "
                                 f"{_with_noise(value, twin.noise.get(metric))} against {strongest}")
                elif spread > 0 and margin < NOISE_SIGMAS * spread:
                    below.append(f"{label} beats {strongest.name} on {metric} only within noise: "
                                 f"{_with_noise(value, twin.noise.get(metric))} against {strongest}")
        floors = [b for b in self.baselines if b.kind == "floor"]
        return Verdict(self.budget, list(self.data), rows, below, self.subset, list(self.chosen), floors)

    def compare(self, metrics: list[str] | None = None) -> Comparison:
        """The twins' metrics (each with its noise), their relative gap, devices and time per step."""
        names = metrics or list(dict.fromkeys(m for t in self.twins for m in t.metrics))
        header = ["", *(LABELS.get(t.framework, t.framework) for t in self.twins)]
        if len(self.twins) == 2:
            header.append("gap")
        blank = [""] * (len(self.twins) + (len(self.twins) == 2))
        rows = []
        for metric in names:
            values = [t.metrics.get(metric) for t in self.twins]
            row = [metric, *(_with_noise(v, t.noise.get(metric)) for v, t in zip(values, self.twins))]
            if len(self.twins) == 2:
                a, b = values
                row.append("–" if a is None or b is None or a == 0 else f"{abs(a - b) / abs(a):.1%}")
            rows.append(row)
            rows += [[f"  {base.kind}: {base.name} {_with_noise(base.value, base.noise)}", *blank]
                     for base in self.baselines if base.metric == metric]
        step = [f"{1000 * t.seconds_per_step:.2f}" if t.seconds_per_step else "–" for t in self.twins]
        rows.append(["ms per training step", *step] + blank[len(self.twins):])
        rows.append(["device" + (", mode" if any(t.mode for t in self.twins) else ""),
                     *(f"{t.device or '?'}" + (f", {t.mode}" if t.mode else "") for t in self.twins)]
                    + blank[len(self.twins):])
        return Comparison(rows, header)

    def as_dict(self) -> dict[str, Any]:
        verdict = self.verdict()
        return {
            "name": self.name or self.id,
            "page": self.id,
            "budget": self.budget,
            "date": self.date,
            "wall_seconds": round(time.perf_counter() - self.started, 2),
            "book": book_version(),
            "versions": library_versions(),
            "platform": machine(),
            "data": self.data,
            "data_subset": self.subset,
            "twins": [asdict(t) for t in self.twins],
            "skipped": self.skipped,
            "targets": [row.metric + " " + row.target for row in verdict.rows],
            "baselines": [asdict(b) for b in self.baselines],
            "verdict": [{"metric": row.metric, "target": row.target,
                         "baseline": asdict(row.baseline) if row.baseline else None,
                         "checks": [asdict(c) | {"outcome": c.outcome} for c in row.checks],
                         "weak": [b.name for b in row.weak]} for row in verdict.rows],
            "misses": verdict.misses,
            "below_baseline": verdict.below_baseline,
            "weak_targets": verdict.weak_targets,
            "chosen": [asdict(c) for c in self.chosen],
            "peak_flops": self._peak_flops(),
        }

    def _peak_flops(self) -> dict[str, float]:
        """Each twin's framework's matmul FLOP/s here (torchflow.speed), beside its counted step; not in smoke."""
        if self.budget == "smoke" or not any(t.flops_per_step for t in self.twins):
            return {}
        from torchflow.speed import peak_flops

        peaks = {t.framework: peak_flops(t.framework) for t in self.twins}
        return {framework: peak for framework, peak in peaks.items() if peak}

    def stamp(self) -> str:
        info = self.as_dict()
        lines = [
            f"Built by TorchFlow {info['book']} with the {info['budget']!r} budget on {info['date']} "
            f"in {info['wall_seconds']:.1f} s ({info['platform']}).",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()) + ".",
        ]
        lines += [f"Data: {d}" for d in (self._data_short or info["data"])]
        for twin in self.twins:
            metrics = ", ".join(f"{k} = {_with_noise(v, twin.noise.get(k))}" for k, v in twin.metrics.items())
            step = f", {1000 * twin.seconds_per_step:.2f} ms/step" if twin.seconds_per_step else ""
            lines.append(f"{twin.framework} on {twin.device or '?'}: {metrics}{step}, "
                         f"peak memory {twin.peak_memory_mb:.0f} MB")
        lines += [f"{name}: skipped (not available here)" for name in self.skipped]
        lines += [f"MISSED: {miss}" for miss in info["misses"]]
        lines += [f"BELOW BASELINE: {line}" for line in info["below_baseline"]]
        # wrapped to the page's column (88 characters), continuation lines indented
        return "\n".join(textwrap.fill(line, width=88, subsequent_indent="    ", break_on_hyphens=False)
                         for line in lines)

    def finish(self) -> dict[str, Any]:
        """Print the stamp and write the JSON record (atomically: a reader never sees half of it)."""
        print(self.stamp())
        info = self.as_dict()
        directory = os.environ.get(RECORDS_ENV)
        if directory:
            path = Path(directory)
            path.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=path, prefix=f".{self.id}.", suffix=".json.tmp")  # one per writer
            try:
                with os.fdopen(handle, "w") as out:
                    out.write(json.dumps(info, indent=2))
                os.replace(name, path / f"{self.id}.json")
            finally:
                Path(name).unlink(missing_ok=True)
        return info
