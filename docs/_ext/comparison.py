"""The framework comparison page, written at build time from what the examples recorded.

Every example ends with ``run.finish()``, which writes a JSON record (metrics,
time per step, memory, budget, versions, data, ...) into ``$TORCHFLOW_RECORDS``
(conf.py sets it to ``docs/_build/records``). After sphinx-gallery has run the
examples (this handler runs on ``builder-inited`` after sphinx-gallery's own),
the records are collected into ``docs/comparison.md``, a generated, git-ignored
page.

Which families a page trains, and where each family's tests are, come from the
family registry (:mod:`torchflow.families`); a record names the example that
wrote it (``page``). Each family's ``tests/test_parity_F.py`` holds its parity
tests (same weights: same outputs, losses, gradients) and its trajectory tests
(``test_trajectory*``: same weights and batches, training stays together); when a
JUnit XML report of the test-suite exists (``nox -s tests`` writes
``docs/_build/test-results.xml``; another path with ``$TORCHFLOW_TEST_RESULTS``),
the page shows how both kinds fared and when.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torchflow.families import FAMILIES, families_of_page
from torchflow.frameworks import FRAMEWORKS as TWINS
from torchflow.frameworks import LABELS
from torchflow.run import RECORDS_ENV

PAGE = "comparison.md"
RESULTS_ENV = "TORCHFLOW_TEST_RESULTS"
KINDS = ("parity", "trajectory")  # test_trajectory* are trajectory tests, the others parity tests


@dataclass
class Example:
    path: Path  # relative to the repository root
    chapter: str
    title: str
    families: list[str] = field(default_factory=list)

    @property
    def page(self) -> str:
        """The example's name, which its record carries (``plot_1_vae``)."""
        return self.path.stem

    @property
    def docname(self) -> str:
        return f"auto_examples/{self.chapter}/{self.path.stem}"


@dataclass
class TestStatus:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped

    def text(self) -> str:
        if self.total == 0:
            return "not in the report"
        if self.failed:
            return f"❌ {self.failed} of {self.total} failed"
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        return f"✅ {self.passed} passed{skipped}"


# ------------------------------------------------------------------ inputs
def find_examples(root: Path, chapters: list[str]) -> list[Example]:
    """Every ``examples/<chapter>/plot_*.py``: its title and the families it trains (from the registry)."""
    examples = []
    for path in sorted((root / "examples").glob("*/plot_*.py")):
        source = path.read_text(encoding="utf-8")
        try:
            docstring = ast.get_docstring(ast.parse(source)) or ""
        except SyntaxError:
            docstring = ""
        title = next((line.strip() for line in docstring.splitlines() if line.strip()), path.stem)
        families = [f.name for f in families_of_page(path.stem)]
        examples.append(Example(path.relative_to(root), path.parent.name, title, families))
    order = {name: i for i, name in enumerate(chapters)}
    examples.sort(key=lambda e: (order.get(e.chapter, len(order)), e.chapter, e.path.name))
    return examples


def load_records(directory: Path) -> tuple[dict[str, dict], list[str]]:
    """The JSON records by the example that wrote them (``page``), and a note for each unreadable one."""
    records, problems = {}, []
    if not directory.is_dir():
        return records, problems
    for path in sorted(directory.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            records[record["page"]] = record
        except (OSError, ValueError, KeyError, TypeError) as error:
            problems.append(f"{path.name}: {error}")
    return records, problems


def load_test_results(path: Path) -> tuple[dict[tuple[str, str], TestStatus], str | None]:
    """Per test module and kind (``("test_parity_vae", "trajectory")``), how its cases fared; and when."""
    statuses: dict[tuple[str, str], TestStatus] = defaultdict(TestStatus)
    if not path.is_file():
        return statuses, None
    try:
        tree = ET.parse(path)
    except (ET.ParseError, OSError):
        return statuses, None
    when = None
    for suite in tree.iter("testsuite"):
        when = when or suite.get("timestamp")
    for case in tree.iter("testcase"):
        module = (case.get("classname") or "").split(".")[-1]
        if case.get("file"):
            module = Path(case.get("file")).stem
        kind = "trajectory" if case.get("name", "").startswith("test_trajectory") else "parity"
        status = statuses[module, kind]
        if case.find("failure") is not None or case.find("error") is not None:
            status.failed += 1
            status.failures.append(case.get("name", "?"))
        elif case.find("skipped") is not None:
            status.skipped += 1
        else:
            status.passed += 1
    if when is None:
        when = dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")
    return statuses, when


# ------------------------------------------------------------------ output
def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _number(value: float | None, scale: float = 1.0, digits: int = 4) -> str:
    if value is None:
        return "–"
    return f"{value * scale:.{digits}g}"


def _table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    align = align or ["l"] * len(header)
    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _twin(record: dict, framework: str) -> dict | None:
    return next((t for t in record.get("twins", []) if t.get("framework") == framework), None)


def recorded(examples: list[Example], records: dict[str, dict]):
    """The examples that have a record in this build, each with its record."""
    return [(example, records[example.page]) for example in examples if example.page in records]


def _difference(a: float | None, b: float | None) -> str:
    """PyTorch minus TensorFlow, absolute: a relative gap of two small gains (38.5 % of 0.02) reads as large."""
    if a is None or b is None:
        return "–"
    return f"{a - b:+.3g}"


def repository_link(path: str) -> str:
    """A file of the repository on its home (``[project.urls] Repository`` in pyproject.toml)."""
    from _ext.book import URLS

    return f"[`{path}`]({URLS['Repository'].rstrip('/')}/blob/main/{path})"


def _headline(record: dict) -> tuple[str, str, str, str, str]:
    """(target, strongest baseline, PyTorch, TensorFlow, verdict) of the page's first stated target."""
    checks = record.get("verdict") or []
    if not checks:
        return "none in this budget", "–", "–", "–", "–"
    row = checks[0]
    base = row.get("baseline")
    twins = {c["twin"]: c for c in row.get("checks", [])}

    def cell(framework: str) -> str:
        check = twins.get(framework)
        if check is None:
            return "skipped" if framework in record.get("skipped", []) else "–"
        noise = f" ± {check['noise']:.2g}" if check.get("noise") else ""
        return f"{'✓' if check['met'] else '✗'} {_number(check.get('value'), digits=3)}{noise}"

    baseline = "none declared" if base is None else f"{base['name']}: {_number(base['value'], digits=3)}"
    misses, below = record.get("misses", []), record.get("below_baseline", [])
    verdict = ("missed" if misses else "met") + (", below a baseline" if below else "")
    return f"{row['metric']} {row['target']}", baseline, cell("torch"), cell("tensorflow"), verdict


def render(examples: list[Example], records: dict[str, dict], problems: list[str],
           statuses: dict[tuple[str, str], TestStatus], results_when: str | None, results_path: Path,
           root: Path, built_pages: set[str]) -> str:
    lines = [
        "% Generated by docs/_ext/comparison.py at build time from the examples' records; do not edit.",
        "",
        "# The frameworks compared",
        "",
        "Every tutorial trains the same model twice, in PyTorch and in TensorFlow 2. This page collects,",
        "when the book is built, what each twin reached, how long one training step took and how much",
        "memory the process had used, together with the budget, the library versions and the data that",
        "produced those numbers. It is regenerated from the records that the examples write",
        "(`run.finish()`), so it always describes this build of the book.",
        "",
    ]
    budgets = sorted({r.get("budget", "?") for r in records.values()})
    if len(budgets) > 1:
        lines += [":::{warning}", f"The records come from different budgets ({', '.join(budgets)}): "
                  "rebuild the whole book with one budget before comparing across tutorials.", ":::", ""]
    if not records:
        lines += [":::{note}", "No example has recorded a run yet: build the book with `nox -s docs`.", ":::", ""]

    def link(example: Example) -> str:
        if example.docname in built_pages:
            return f"{{doc}}`{example.title} </{example.docname}>`"
        return example.title

    known = {e.page for e in examples}
    orphans = sorted(set(records) - known)

    families = [name for name in FAMILIES if any(name in e.families for e in examples)]

    def status(family: str, kind: str) -> str:
        module = Path(FAMILIES[family].parity_test).stem
        found = statuses.get((module, kind), TestStatus())
        text = found.text() if results_when else f"{kind} tests"
        return f"{{ref}}`{family}: {text} <parity-{family}>`"

    # at a glance: one row per page
    lines += ["## At a glance", "",
              "One row per tutorial: its first stated target, the strongest cheap baseline of that metric",
              "(computed on the page, in this build), what each twin reached (✓ met, ✗ missed, ± one",
              "standard error where the page measured it), the page's verdict over all its targets, and",
              "whether the family's parity tests passed in this build's test report.", ""]
    if not results_when:
        lines += [":::{note}", f"No test report was found at `{results_path}`: the parity column says which "
                  "tests hold each family but not whether they passed. `nox -s tests` writes the report.", ":::",
                  ""]
    rows = []
    for example in examples:
        record = records.get(example.page)
        parity = ", ".join(status(f, "parity") for f in example.families) or "no family declared"
        if record is None:
            rows.append([link(example), "*not run in this build*", "–", "–", "–", "–", parity])
            continue
        rows.append([link(example), *_headline(record), parity])
    lines += _table(["tutorial", "headline target", "strongest baseline", "PyTorch", "TensorFlow", "verdict",
                     "parity tests"], rows)

    # results
    lines += ["## Every recorded metric", "",
              "Every number each twin recorded, and their difference (PyTorch minus TensorFlow). Twins that",
              "start from copied weights and see the same batches differ by the frameworks' arithmetic and",
              "random streams only; the parity tests check that with the same weights they compute the same.",
              "", ":::{dropdown} The table (one row per metric and tutorial)", ""]

    rows = []
    for example in examples:
        record = records.get(example.page)
        parity = ", ".join(status(f, "parity") for f in example.families) or "no family declared"
        trajectory = ", ".join(status(f, "trajectory") for f in example.families) or "–"
        if record is None:
            rows.append([link(example), "*not run in this build*", "–", "–", "–", trajectory])
            continue
        torch_twin, tf_twin = _twin(record, "torch"), _twin(record, "tensorflow")
        metrics = list(dict.fromkeys([*(torch_twin or {}).get("metrics", {}), *(tf_twin or {}).get("metrics", {})]))
        for i, metric in enumerate(metrics or ["–"]):
            a = (torch_twin or {}).get("metrics", {}).get(metric)
            b = (tf_twin or {}).get("metrics", {}).get(metric)
            skipped = set(record.get("skipped", []))
            rows.append([
                link(example) if i == 0 else "", metric,
                "skipped" if "torch" in skipped else _number(a, digits=4),
                "skipped" if "tensorflow" in skipped else _number(b, digits=4),
                _difference(a, b), trajectory if i == 0 else "",
            ])
    lines += _table(["tutorial", "metric", "PyTorch", "TensorFlow", "difference", "trajectory tests"],
                    rows, ["l", "l", "r", "r", "r", "l"])
    lines += [":::", ""]

    # targets, next to the strongest cheap baseline of each
    lines += ["## Targets and baselines", "",
              "Each target a page states for its budget, the strongest cheap baseline of that metric (computed",
              "on the page, in this build, on the same split), and what each twin reached, ± one standard error",
              "where the page measured it. A result inside two standard errors of its target is *within",
              "noise*. The page says the same at the top of its results.", ""]
    rows = []
    for example, record in recorded(examples, records):
        data = f"{record.get('budget', '?')}, " + ("embedded subset" if record.get("data_subset") else "full data")
        checks = record.get("verdict")
        if checks is None:  # a record of an older page: targets as text only
            misses = record.get("misses", [])
            verdict = ("missed: " + "; ".join(misses)) if misses else ("reached" if record.get("targets") else "–")
            rows.append([link(example), "; ".join(record.get("targets", [])) or "none in this budget", "–", "–", "–",
                         data, verdict])
            continue
        if not checks:
            rows.append([link(example), "none in this budget", "–", "–", "–", data, "–"])
        for i, row in enumerate(checks):
            base = row.get("baseline")
            twins = {c["twin"]: c for c in row.get("checks", [])}
            skipped = tuple(record.get("skipped", []))

            def cell(framework: str, twins=twins, skipped=skipped) -> str:
                check = twins.get(framework)
                if check is None:
                    return "skipped" if framework in skipped else "–"
                noise = f" ± {check['noise']:.2g}" if check.get("noise") else ""
                return f"{'✓' if check['met'] else '✗'} {_number(check.get('value'))}{noise} ({check['outcome']})"

            baseline = "none declared" if base is None else (
                f"{base['name']} {_number(base['value'])}" + (f" ± {base['noise']:.2g}" if base.get("noise") else ""))
            rows.append([link(example) if i == 0 else "", f"{row['metric']} {row['target']}", baseline,
                         cell("torch"), cell("tensorflow"), data if i == 0 else "",
                         "weak: met by " + ", ".join(row["weak"]) if row.get("weak") else ""])
    lines += _table(["tutorial", "target", "strongest baseline", "PyTorch", "TensorFlow", "budget, data", "note"],
                    rows)
    below = [(example, line) for example, record in recorded(examples, records)
             for line in record.get("below_baseline", [])]
    lines += ["### Networks that do not beat their baseline", ""]
    if below:
        lines += ["A network that loses to a cheap baseline is a finding, not a failure of the build: the page",
                  "says so in its results and what would close the gap.", ""]
        lines += [f"- {link(example)}: {_cell(line)}" for example, line in below]
    else:
        lines += ["Every twin that ran beats the strongest baseline its page declares."]
    lines.append("")

    # cost
    lines += ["## Time and memory", "",
              "Time per training step is the mean wall time of one optimiser step (forward, backward,",
              "update), measured by the example around its own training loop, after the first step.",
              "Peak memory is the peak resident memory of the build process when the twin finished: the",
              "twins of a page run one after the other in one process, so the second twin's figure",
              "includes the first one's.", ""]
    rows = []
    for example, record in recorded(examples, records):
        for i, framework in enumerate(TWINS):
            twin = _twin(record, framework)
            if twin is None:
                continue
            rows.append([
                link(example) if i == 0 or _twin(record, TWINS[0]) is None else "", LABELS[framework],
                twin.get("device") or "–", twin.get("mode") or "–", _number(twin.get("seconds_per_step"), 1000, 3),
                _number(twin.get("train_seconds"), 1, 3), _number(twin.get("peak_memory_mb"), 1, 4),
            ])
    lines += _table(["tutorial", "twin", "device", "execution", "ms per step", "training s", "peak memory MB"],
                    rows, ["l", "l", "l", "l", "r", "r", "r"])

    # provenance
    lines += ["## What produced these numbers", ""]
    rows = []
    for example, record in recorded(examples, records):
        versions = ", ".join(f"{k} {v}" for k, v in record.get("versions", {}).items())
        rows.append([link(example), record.get("budget", "?"), record.get("date", "?").replace("T", " "),
                     f"{record.get('wall_seconds', 0):.1f} s", record.get("platform", "?"), versions])
    lines += _table(["tutorial", "budget", "built", "wall time", "machine", "versions"], rows)
    lines += ["### Data", ""]
    for example, record in recorded(examples, records):
        lines.append(f"{link(example)}")
        lines += [f": {_cell(d)}" for d in record.get("data", [])] or [": (no data recorded)"]
        lines.append("")

    # parity
    lines += ["## Parity and trajectory tests", "",
              "A parity test copies one set of weights into both twins of a model family and checks that",
              "the forward pass, the loss and the gradients agree on a small batch. A trajectory test",
              "then trains both twins from those weights on the same batches, with the page's optimiser",
              "settings, and checks that losses and weights stay together. Tolerances are relative to",
              "each tensor's scale, stated once in `tests/parity.py`; the measured drift is in each test's",
              "docstring."]
    if results_when:
        lines += [f"Status from the test report of {results_when.replace('T', ' ')} (`nox -s tests`).", ""]
    else:
        lines += ["", ":::{note}",
                  f"No test report was found at `{results_path}`, so the status of the tests is not shown; "
                  "`nox -s tests` writes it (any `pytest --junitxml=FILE` report will do, named by "
                  f"`${RESULTS_ENV}`).", ":::", ""]
    for name in families:
        declared = FAMILIES[name]
        test_file = declared.parity_test
        users = ", ".join(link(e) for e in examples if name in e.families)
        lines += [f"(parity-{name})=", f"### {declared.title}: `{test_file}`", ""]
        if not (root / test_file).is_file():
            lines += [f"No parity test yet for `torchflow.pt.{declared.module_name}` / "
                      f"`torchflow.tf.{declared.module_name}` (used by {users}).", ""]
            continue
        lines += [f"Used by {users}."]
        if results_when:
            module = Path(test_file).stem
            for kind in KINDS:
                found = statuses.get((module, kind), TestStatus())
                lines += [f"{kind.capitalize()} tests: {found.text()}."]
                if found.failures:
                    lines += ["Failed: " + ", ".join(f"`{case}`" for case in found.failures) + "."]
        lines += ["", f"The tests: {repository_link(test_file)}.", ""]

    if orphans or problems:
        lines += ["## Other records", ""]
        lines += [f"- `{name}`: a record without an example (a removed or renamed tutorial?)" for name in orphans]
        lines += [f"- unreadable record {p}" for p in problems]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_comparison(app) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    srcdir = Path(app.srcdir)
    root = srcdir.parent
    records_dir = Path(os.environ.get(RECORDS_ENV) or srcdir / "_build" / "records")
    results_path = Path(os.environ.get(RESULTS_ENV) or srcdir / "_build" / "test-results.xml")
    examples = find_examples(root, list(app.config.torchflow_chapters))
    records, problems = load_records(records_dir)
    statuses, when = load_test_results(results_path)
    built = {e.docname for e in examples if (srcdir / f"{e.docname}.rst").is_file()}
    text = render(examples, records, problems, statuses, when, results_path.relative_to(root)
                  if results_path.is_relative_to(root) else results_path, root, built)
    page = srcdir / PAGE
    if not page.is_file() or page.read_text(encoding="utf-8") != text:  # unchanged: no re-read
        page.write_text(text, encoding="utf-8")
    missing = [e.page for e in examples if e.page not in records]
    logger.info(f"comparison page: {len(records)} records, {len(statuses)} test modules in the report"
                + (f"; not recorded: {', '.join(missing)}" if missing else ""))
    for problem in problems:
        logger.warning(f"comparison page: unreadable record {problem}", type="torchflow", subtype="records")


def setup(app):
    app.add_config_value("torchflow_chapters", [], "env", types=frozenset({list, tuple}))
    # after sphinx-gallery's generate_gallery_rst (priority 500), which runs the examples
    app.connect("builder-inited", write_comparison, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
