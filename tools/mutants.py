"""The mutation check: apply deliberate mistakes to the package and see the tests catch each one.

Each ``tools/mutants/<area>.toml`` lists mutants (the format is in ``CONTRIBUTING.md``)::

    [[mutant]]
    id = "vae-kl-sign"                      # unique, kebab-case, prefixed by the area
    why = "the KL term rewards moving away from the prior"
    tests = ["tests/test_losses_vae.py"]    # pytest paths or node ids that must FAIL with the mutant
    [[mutant.edit]]                         # one or more edits: the same mistake in both twins
    file = "torchflow/pt/vae.py"
    find = "exact text that occurs exactly once in the file"
    replace = "the mistaken text"

The runner validates the list, copies the repository's files (``git ls-files``: tracked
files and untracked ones git does not ignore) into a temporary directory once per job,
runs every listed test there unmutated (it must pass, so that a kill means the mutant
broke it; one pytest run for all of them, then each test set alone only if that fails, to
say which), then for each mutant applies its edits, runs ``python -m pytest
-x -q -p no:cacheprovider <tests>`` in the copy and restores the files.
pytest's exit code 1 (tests failed) is a kill, 0 is a survivor, anything else (a
collection error, a usage error, a timeout) is an error, reported apart: it is not a kill.

It writes ``benchmarks/mutants.md`` and exits non-zero if any mutant survived or errored.
``nox -s mutants`` runs it; ``python tools/mutants.py --help`` lists the options.
Standard library only, so that it runs (and is tested) without either framework.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST_DIR = ROOT / "tools" / "mutants"
REPORT = ROOT / "benchmarks" / "mutants.md"
PYTEST = ("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
KILLED, SURVIVED, ERROR = "killed", "survived", "error"


class ListError(ValueError):
    """The mutant list itself is wrong (a duplicate id, a `find` that is missing or not unique, ...)."""


@dataclass(frozen=True)
class Edit:
    file: str
    find: str
    replace: str


@dataclass(frozen=True)
class Mutant:
    id: str
    area: str
    why: str
    tests: tuple[str, ...]
    edits: tuple[Edit, ...]
    source: str  # the toml file it came from, for error messages


@dataclass
class Outcome:
    mutant: Mutant
    result: str
    seconds: float
    detail: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    baseline_seconds: float = 0.0


def load(list_dir: Path = LIST_DIR) -> list[Mutant]:
    """Every mutant of every ``*.toml`` in ``list_dir``, in file then list order (area = the file's stem)."""
    mutants = []
    files = sorted(list_dir.glob("*.toml"))
    if not files:
        raise ListError(f"no mutant lists (*.toml) in {list_dir}")
    for path in files:
        try:
            entries = tomllib.loads(path.read_text(encoding="utf-8")).get("mutant", [])
        except tomllib.TOMLDecodeError as error:
            raise ListError(f"{path.name}: not valid TOML: {error}") from error
        for number, entry in enumerate(entries, 1):
            where = f"{path.name}, mutant {number} ({entry.get('id', 'no id')!r})"
            missing = [key for key in ("id", "why", "tests", "edit") if not entry.get(key)]
            if missing:
                raise ListError(f"{where}: missing {', '.join(missing)}")
            tests = entry["tests"]
            if isinstance(tests, str) or not all(isinstance(t, str) for t in tests):
                raise ListError(f"{where}: `tests` must be a list of strings")
            edits = []
            for edit in entry["edit"]:
                if not all(isinstance(edit.get(key), str) for key in ("file", "find", "replace")):
                    raise ListError(f"{where}: every [[mutant.edit]] needs string `file`, `find` and `replace`")
                edits.append(Edit(edit["file"], edit["find"], edit["replace"]))
            mutants.append(Mutant(entry["id"], path.stem, entry["why"], tuple(tests), tuple(edits), path.name))
    return mutants


def validate(mutants: Sequence[Mutant], root: Path = ROOT) -> None:
    """Raise :class:`ListError` with every problem of the list found against the files under ``root``."""
    problems = []
    seen: dict[str, str] = {}
    for mutant in mutants:
        where = f"{mutant.source}: {mutant.id}"
        if not ID_PATTERN.match(mutant.id):
            problems.append(f"{where}: the id is not kebab-case")
        if mutant.id in seen:
            problems.append(f"{where}: the id is also used in {seen[mutant.id]}")
        seen.setdefault(mutant.id, mutant.source)
        for test in mutant.tests:
            if not (root / test.split("::", 1)[0]).is_file():
                problems.append(f"{where}: the test {test!r} does not exist")
        for edit in mutant.edits:
            path = root / edit.file
            if not path.is_file():
                problems.append(f"{where}: no file {edit.file}")
                continue
            count = path.read_text(encoding="utf-8").count(edit.find)
            if count != 1:
                problems.append(f"{where}: `find` occurs {count} times in {edit.file}, not once: {edit.find!r}")
            if edit.find == edit.replace:
                problems.append(f"{where}: `replace` is the same as `find` in {edit.file}")
        # two edits of one file are applied in turn: each must still occur once after the ones before it
        texts: dict[str, str] = {}
        for edit in mutant.edits:
            path = root / edit.file
            if not path.is_file() or path.read_text(encoding="utf-8").count(edit.find) != 1:
                continue  # reported above
            text = texts.setdefault(edit.file, path.read_text(encoding="utf-8"))
            if text.count(edit.find) != 1:
                problems.append(f"{where}: an earlier edit of {edit.file} changes how often this `find` occurs")
            texts[edit.file] = text.replace(edit.find, edit.replace, 1)
    if problems:
        raise ListError("the mutant list is wrong:\n  " + "\n  ".join(problems))


def repository_files(root: Path) -> list[str]:
    """The files a fresh clone (plus this checkout's new, not ignored files) would have."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                         check=True, capture_output=True).stdout.decode()
    return sorted({name for name in out.split("\0") if name and (root / name).is_file()})


def make_copy(root: Path, files: Iterable[str], parent: Path) -> Path:
    copy = Path(tempfile.mkdtemp(prefix="copy-", dir=parent))
    for name in files:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    return copy


def run_tests(copy: Path, tests: Sequence[str], timeout: float) -> tuple[int | None, str]:
    """pytest's exit code on ``tests`` in ``copy`` (None after a timeout) and the end of its output."""
    env = dict(os.environ, PYTHONPATH=str(copy), TORCHFLOW_BUDGET="smoke", OMP_NUM_THREADS="1",
               TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"), PYTHONDONTWRITEBYTECODE="1")
    try:
        done = subprocess.run([sys.executable, *PYTEST, *tests], cwd=copy, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        tail = expired.stdout or ""
        return None, (tail.decode(errors="replace") if isinstance(tail, bytes) else tail)[-2000:]
    return done.returncode, (done.stdout + done.stderr)[-2000:]


def apply(copy: Path, edits: Sequence[Edit]) -> dict[Path, bytes]:
    """Make the mutant's edits in ``copy``; return the original bytes of every file touched."""
    originals: dict[Path, bytes] = {}
    for edit in edits:
        path = copy / edit.file
        originals.setdefault(path, path.read_bytes())
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(edit.find, edit.replace, 1), encoding="utf-8")
    return originals


def restore(originals: dict[Path, bytes]) -> None:
    for path, data in originals.items():
        path.write_bytes(data)


def classify(code: int | None) -> str:
    return {1: KILLED, 0: SURVIVED}.get(code, ERROR) if code is not None else ERROR


def run(mutants: Sequence[Mutant], root: Path = ROOT, jobs: int = 1, timeout: float = 300.0,
        log: Callable[[str], None] = print) -> Report:
    """Check the unmutated tests pass, then run every mutant; raise RuntimeError if a test set fails unmutated."""
    started = time.perf_counter()
    report = Report()
    files = repository_files(root)
    with tempfile.TemporaryDirectory(prefix="torchflow-mutants-") as parent:
        copies: queue.Queue[Path] = queue.Queue()
        for _ in range(max(1, min(jobs, len(mutants)))):
            copies.put(make_copy(root, files, Path(parent)))
        lock = threading.Lock()

        def in_a_copy(work: Callable[[Path], object]) -> object:
            copy = copies.get()
            try:
                return work(copy)
            finally:
                copies.put(copy)

        # the unmutated check: every listed test in one pytest run (the frameworks load once, not per
        # test set); only if that fails, each test set alone, to name the ones that fail
        test_sets = list(dict.fromkeys(m.tests for m in mutants))
        every_test = tuple(dict.fromkeys(t for tests in test_sets for t in tests))
        log(f"{len(every_test)} tests of {len(test_sets)} test sets unmutated, then {len(mutants)} mutants, "
            f"{copies.qsize()} at a time")
        code, tail = in_a_copy(lambda copy: run_tests(copy, every_test, timeout * max(1, len(test_sets))))
        if code != 0:
            def baseline(tests: tuple[str, ...]) -> tuple[tuple[str, ...], int | None, str]:
                code, tail = in_a_copy(lambda copy: run_tests(copy, tests, timeout))
                return tests, code, tail

            with ThreadPoolExecutor(copies.qsize()) as pool:
                failed = [(t, c, tail) for t, c, tail in pool.map(baseline, test_sets) if c != 0]
            lines = [f"  {' '.join(t)}: pytest exit code {c}\n{tail}" for t, c, tail in failed]
            raise RuntimeError("these test sets fail without any mutant, so a kill would mean nothing:\n"
                               + ("\n".join(lines) or f"  (all together: exit code {code})\n{tail}"))
        report.baseline_seconds = time.perf_counter() - started

        def one(mutant: Mutant) -> Outcome:
            def work(copy: Path) -> Outcome:
                begun = time.perf_counter()
                originals = apply(copy, mutant.edits)
                try:
                    code, tail = run_tests(copy, mutant.tests, timeout)
                finally:
                    restore(originals)
                result = classify(code)
                detail = "" if result == KILLED else (f"timeout after {timeout:g} s" if code is None
                                                      else f"pytest exit code {code}") + "\n" + tail
                return Outcome(mutant, result, time.perf_counter() - begun, detail)

            outcome = in_a_copy(work)
            with lock:
                log(f"{outcome.result:>8}  {outcome.seconds:6.1f} s  {mutant.id}")
                if outcome.result != KILLED:
                    log(outcome.detail)
            return outcome

        with ThreadPoolExecutor(copies.qsize()) as pool:
            report.outcomes = list(pool.map(one, mutants))
    report.seconds = time.perf_counter() - started
    return report


def _commit(root: Path) -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short=12", "HEAD") or "no commit"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_report(report: Report, path: Path, root: Path = ROOT, selection: str = "") -> None:
    """``benchmarks/mutants.md``: when, where, how long, every mutant's result and the score."""
    counts = {r: sum(o.result == r for o in report.outcomes) for r in (KILLED, SURVIVED, ERROR)}
    total = len(report.outcomes)
    machine = f"{platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    if hasattr(os, "getloadavg"):  # the times below depend on what else the machine was running
        machine += f", load average {os.getloadavg()[0]:.1f} at the end"
    lines = [
        "# Mutation check",
        "",
        "Generated by `nox -s mutants` (`python tools/mutants.py`); do not edit by hand. Each mutant is a",
        "deliberate mistake from `tools/mutants/*.toml`, made in both twins where the code is twinned; it is",
        "*killed* when its listed tests fail (pytest exit code 1). A collection error or a timeout is an",
        "*error*, not a kill.",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- commit: {_commit(root)}",
        f"- machine: {machine}",
        f"- selection: {selection or 'every mutant in tools/mutants/*.toml'}",
        f"- total time: {report.seconds:.0f} s (of which {report.baseline_seconds:.0f} s running every listed test "
        "once unmutated)",
        f"- score: **{counts[KILLED]} / {total} killed** ({counts[SURVIVED]} survived, {counts[ERROR]} errors)",
        "",
        "| id | area | files | why | tests | result | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in report.outcomes:
        m = o.mutant
        files = ", ".join(dict.fromkeys(f"`{e.file}`" for e in m.edits))
        tests = ", ".join(f"`{t}`" for t in m.tests)
        result = o.result if o.result == KILLED else f"**{o.result.upper()}**"
        lines.append(f"| `{m.id}` | {m.area} | {files} | {_cell(m.why)} | {tests} | {result} | {o.seconds:.1f} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def select(mutants: Sequence[Mutant], only: Sequence[str] = (), areas: Sequence[str] = ()) -> list[Mutant]:
    """The mutants named by ``--only`` (ids) and ``--area`` (a toml stem, or its prefix: ``gan`` is gan*.toml)."""
    unknown = sorted(set(only) - {m.id for m in mutants})
    if unknown:
        raise ListError(f"--only names no such mutant: {', '.join(unknown)}")
    chosen = [m for m in mutants if (not only or m.id in only)
              and (not areas or any(m.area == a or m.area.startswith(a) for a in areas))]
    if not chosen:
        raise ListError("the selection is empty")
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=[], metavar="ID", help="run only these mutants")
    parser.add_argument("--area", nargs="+", default=[], help="run only these areas (toml stems or prefixes)")
    parser.add_argument("--list", action="store_true", help="validate and list the mutants, run nothing")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once, each in its own copy")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per pytest run before an error")
    parser.add_argument("--lists", type=Path, default=LIST_DIR, help="the folder of *.toml lists")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository the lists mutate")
    parser.add_argument("--output", type=Path, default=None, help="the report (default benchmarks/mutants.md)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        mutants = load(args.lists)
        validate(mutants, root)
        chosen = select(mutants, args.only, args.area)
    except ListError as error:
        print(f"mutants: {error}", file=sys.stderr)
        return 2
    if args.list:
        for m in chosen:
            print(f"{m.id:<48} {m.area:<12} {', '.join(m.tests)}\n    {m.why}")
        print(f"{len(chosen)} mutants")
        return 0
    try:
        report = run(chosen, root, args.jobs, args.timeout)
    except RuntimeError as error:
        print(f"mutants: {error}", file=sys.stderr)
        return 2
    selection = " ".join([*(f"--area {a}" for a in args.area), *(f"--only {i}" for i in args.only)])
    output = args.output or root / "benchmarks" / "mutants.md"
    write_report(report, output, root, selection)
    bad = [o for o in report.outcomes if o.result != KILLED]
    print(f"{len(report.outcomes) - len(bad)} / {len(report.outcomes)} killed in {report.seconds:.0f} s; "
          f"report: {output}")
    for o in bad:
        print(f"  {o.result}: {o.mutant.id} ({o.mutant.source})", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
