"""Whole pages run for the tests in long-lived interpreters, in a lane beside the test process.

A page run in a fresh process spends 5–12 s importing PyTorch and TensorFlow before it trains for
a few seconds in the smoke budget. The docs build runs every page in one interpreter instead,
calling :func:`torchflow.frameworks.reset_between_pages` after each; the tests do what the docs
build does. Each *setting* (the environment a page sees, and optionally a fake network serving
the canonical downloads) gets one worker process that imports torchflow and both frameworks once,
then runs each page with :func:`runpy.run_path` as ``__main__`` in a fresh namespace, from the
page's folder, as ``python page.py`` would.

The pages run one at a time, in one background lane (a thread of the test process driving the
workers), while the test process goes on with the other tests: on two cores both stay busy.
``conftest.py`` starts a lane when the selected tests include page runs (marked ``page_run``),
submits every one of them in collection order, and moves those tests to the end of the session,
so that each finds its page already run. A worker that crashes or runs past the timeout fails that
page's test with what it printed and is replaced for the next page.

What a worker shares between pages is what the docs build shares. The reader's own path, a fresh
``python page.py`` with one framework missing, and the downloaded notebook keep their fresh-process
tests (``tests/test_examples.py``).

This module imports only the standard library: a worker must set its thread count before
PyTorch loads.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import json
import multiprocessing
import os
import queue
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What every page run sees: the smoke budget, no display, a quiet TensorFlow, one thread per worker
# (the test process uses the other core).
PAGE_ENV = {"TORCHFLOW_BUDGET": "smoke", "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2",
            "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
            "PYTHONPATH": str(ROOT)}
START_TIMEOUT = 300.0  # a worker's start (both frameworks imported) is not counted in a page's timeout


@dataclass(frozen=True)
class Setting:
    """The environment a worker's pages see (``None`` unsets a variable) and the fixtures it serves."""

    name: str
    env: tuple[tuple[str, str | None], ...] = ()
    served: str | None = None  # a folder written by tests.canonical.write_all: the network serves it
    preload: bool = True  # import torchflow and both frameworks at the worker's start (tests of the lane: no)
    fresh: bool = False  # run each page as `python page.py` in a process of its own, not in a worker
    block: str | None = None  # with fresh: this framework's import fails, as where it is not installed

    def environment(self, base: dict[str, str]) -> dict[str, str]:
        merged = {**base, **PAGE_ENV}
        for key, value in self.env:
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged


@dataclass
class Outcome:
    """One page run: whether it finished, what it printed, and the folder its record went to."""

    page: Path
    ok: bool
    stdout: str
    error: str
    seconds: float
    records: Path

    def check(self) -> tuple[str, dict]:
        """The page's printed output and its one record; an ``AssertionError`` saying why not."""
        assert self.ok, f"{self.page.name} failed:\n{self.stdout[-3000:]}\n{self.error[-5000:]}"
        records = sorted(self.records.glob("*.json"))
        assert len(records) == 1, f"{self.page.name} wrote {len(records)} records (expected 1: run.finish())"
        return self.stdout, json.loads(records[0].read_text())


# ------------------------------------------------------------------------------ in the worker


def _start(environment: dict[str, str], served: str | None, log: str, preload: bool) -> None:
    """A worker's first step: its environment, its log, both frameworks (in the safe order)."""
    os.environ.clear()
    os.environ.update(environment)
    # whatever C++ prints (TensorFlow's logs, a crash report) goes to the log, not to the test's output
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    sys.path.insert(0, str(ROOT))
    if not preload:
        return
    import matplotlib

    matplotlib.use("Agg")
    import torchflow  # noqa: F401  (loads PyTorch's Triton before TensorFlow)
    from torchflow.frameworks import available_frameworks

    available_frameworks()  # imports both, once, here rather than inside the first page's timing
    if served is not None:
        from tests.canonical import serve_folder

        serve_folder(Path(served))


def _ready() -> int:
    return os.getpid()


def _run(page: str, records: str) -> tuple[bool, str, str, float]:
    """Run one page as ``__main__`` from its folder; then reset what it may have left behind."""
    import runpy

    os.environ["TORCHFLOW_RECORDS"] = records
    here, argv = os.getcwd(), sys.argv
    os.chdir(Path(page).parent)
    sys.argv = [page]
    out, err = io.StringIO(), io.StringIO()
    started, ok, error = time.perf_counter(), True, ""
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            runpy.run_path(page, run_name="__main__")
    except SystemExit as stop:  # python page.py would exit with this status
        ok = stop.code in (None, 0)
        error = "" if ok else f"SystemExit({stop.code!r})"
    except BaseException:  # noqa: BLE001  (reported to the test, which fails)
        ok, error = False, traceback.format_exc()
    finally:
        os.chdir(here)
        sys.argv = argv
        if "torchflow" in sys.modules:
            from torchflow.frameworks import reset_between_pages

            reset_between_pages()
    return ok, out.getvalue(), err.getvalue() + error, time.perf_counter() - started


# ------------------------------------------------------------------------------ in the test process


@dataclass
class _Job:
    key: str
    setting: Setting
    page: Path
    done: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)


class Lane:
    """Runs submitted pages in order, one at a time per driver thread, each driver with one worker per setting.

    One driver starts with the lane; :meth:`widen` starts a second once the test process has nothing
    else to do than wait for pages (the first page test calls it), so both cores run pages then.
    """

    def __init__(self, base: Path, timeout: float = 600.0):
        self.base, self.timeout = base, timeout
        self.base.mkdir(parents=True, exist_ok=True)
        self.environment = dict(os.environ)  # as the test session started
        self.jobs: dict[str, _Job] = {}
        self.queue: queue.Queue[_Job | None] = queue.Queue()
        self.workers: dict[tuple[int, str], concurrent.futures.ProcessPoolExecutor] = {}
        self.started: list[str] = []  # the setting of each worker started, in order
        self.drivers: list[threading.Thread] = []
        self._widen_lock = threading.Lock()
        self._add_driver()

    def _add_driver(self) -> None:
        index = len(self.drivers)
        driver = threading.Thread(target=self._drive, args=(index,), name=f"page-lane-{index}", daemon=True)
        self.drivers.append(driver)
        driver.start()

    def widen(self, drivers: int = 2) -> None:
        """Up to ``drivers`` pages at a time from now on, where pages are still waiting."""
        with self._widen_lock:
            while len(self.drivers) < drivers and not self.queue.empty():
                self._add_driver()

    def submit(self, key: str, setting: Setting, page: Path) -> None:
        if key in self.jobs:
            raise ValueError(f"page run {key!r} submitted twice")
        self.jobs[key] = job = _Job(key, setting, page)
        self.queue.put(job)

    def result(self, key: str) -> Outcome:
        if key not in self.jobs:
            raise KeyError(f"no page run {key!r} was submitted (is the test marked page_run?)")
        return self.jobs[key].done.result()

    def summary(self) -> str:
        done = {key: job.done.result() for key, job in self.jobs.items() if job.done.done()}
        failed = sum(not outcome.ok for outcome in done.values())
        slowest = sorted(((o.seconds, key) for key, o in done.items()), reverse=True)[:5]
        return (f"page lane: {len(done)} of {len(self.jobs)} pages run ({failed} failed) in "
                f"{sum(o.seconds for o in done.values()):.0f} s of page time, {len(self.drivers)} driver(s), "
                f"{len(self.started)} worker start(s); slowest: "
                + ", ".join(f"{key.rsplit('[', 1)[-1].rstrip(']')} {seconds:.0f} s" for seconds, key in slowest))

    def close(self) -> None:
        for _ in self.drivers:
            self.queue.put(None)
        for driver in self.drivers:
            driver.join(timeout=self.timeout)
        for worker in self.workers.values():
            worker.shutdown(wait=False, cancel_futures=True)
        self.workers.clear()

    def _log(self, setting: Setting, driver: int) -> Path:
        return self.base / f"{setting.name}-{driver}.log"

    def _worker(self, setting: Setting, driver: int) -> concurrent.futures.ProcessPoolExecutor:
        if (driver, setting.name) not in self.workers:
            self.started.append(setting.name)
            self.workers[driver, setting.name] = worker = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                initargs=(setting.environment(self.environment), setting.served, str(self._log(setting, driver)),
                          setting.preload))
            worker.submit(_ready).result(timeout=max(START_TIMEOUT, self.timeout))
        return self.workers[driver, setting.name]

    def _discard(self, setting: Setting, driver: int) -> None:
        worker = self.workers.pop((driver, setting.name), None)
        if worker is not None:
            for process in list(getattr(worker, "_processes", {}).values()):
                process.kill()
            worker.shutdown(wait=False, cancel_futures=True)

    def _fresh(self, setting: Setting, page: Path, records: Path) -> tuple[bool, str, str, float]:
        """``python page.py`` in a process of its own (``block``: that framework's import fails there)."""
        environment = {**setting.environment(self.environment), "TORCHFLOW_RECORDS": str(records)}
        block = f"sys.modules[{setting.block!r}] = None; " if setting.block else ""
        code = (f"import sys, runpy; {block}sys.argv = [{str(page)!r}]; "
                f"runpy.run_path({str(page)!r}, run_name='__main__')")
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", code], cwd=page.parent, env=environment,
                                  capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired as expired:
            return False, expired.stdout or "", f"timed out after {self.timeout:.0f} s", time.perf_counter() - started
        error = "" if done.returncode == 0 else f"{done.stderr[-5000:]}\nexit status {done.returncode}"
        return done.returncode == 0, done.stdout, error, time.perf_counter() - started

    def _drive(self, driver: int) -> None:
        while (job := self.queue.get()) is not None:
            records = self.base / job.key.replace("/", "-")
            records.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            try:
                if job.setting.fresh:
                    ok, stdout, error, seconds = self._fresh(job.setting, job.page, records)
                else:
                    run = self._worker(job.setting, driver).submit(_run, str(job.page), str(records))
                    ok, stdout, error, seconds = run.result(timeout=self.timeout)
            except concurrent.futures.TimeoutError:
                self._discard(job.setting, driver)
                ok, stdout, seconds = False, "", time.perf_counter() - started
                error = f"timed out after {self.timeout:.0f} s; the worker's log:\n{self._tail(job.setting, driver)}"
            except BrokenProcessPool:
                self._discard(job.setting, driver)
                ok, stdout, seconds = False, "", time.perf_counter() - started
                error = ("the worker process died (a crash without a Python traceback) or could not start; "
                         f"its log:\n{self._tail(job.setting, driver)}")
            except BaseException:  # noqa: BLE001  (the test reports it)
                self._discard(job.setting, driver)
                ok, stdout, seconds = False, "", time.perf_counter() - started
                error = traceback.format_exc()
            job.done.set_result(Outcome(job.page, ok, stdout, error, seconds, records))

    def _tail(self, setting: Setting, driver: int, characters: int = 5000) -> str:
        try:
            return self._log(setting, driver).read_text(errors="replace")[-characters:]
        except OSError as problem:
            return f"(no log: {problem})"


# ------------------------------------------------------------------------------ the pytest side


def page_run(setting: Setting | object, parameter: str | None = None, page: Path | None = None):
    """Mark a test as a page run: the page is its parameter ``parameter`` (an example's path, or
    ``chapter/plot_x``) or the fixed ``page``.

    ``setting`` is a :class:`Setting`; the name of a parameter whose values are settings; or a
    function of a scratch folder that returns one (it may write files there, such as the fixtures
    a fake network serves). The test calls ``page_lane.result(request.node.nodeid).check()``.
    """
    import pytest

    if (parameter is None) == (page is None):
        raise ValueError("give the page's parameter or a fixed page, not both")
    return pytest.mark.page_run(setting=setting, parameter=parameter, page=page)


def example_path(value: Path | str) -> Path:
    path = Path(value)
    return path if path.suffix == ".py" else ROOT / "examples" / f"{value}.py"


def start_lane(items: list, base: Path) -> Lane | None:
    """A lane running the page of every marked item, in order; ``None`` where no item is marked."""
    marked = [(item, item.get_closest_marker("page_run")) for item in items]
    marked = [(item, mark) for item, mark in marked if mark is not None]
    if not marked:
        return None
    lane, settings = Lane(base), {}
    for item, mark in marked:
        setting = mark.kwargs["setting"]
        if isinstance(setting, str):  # a parameter of the test
            setting = item.callspec.params[setting]
        if not isinstance(setting, Setting):  # a factory: made once, with its own scratch folder
            if setting not in settings:
                folder = base / f"setting-{len(settings)}"
                folder.mkdir()
                settings[setting] = setting(folder)
            setting = settings[setting]
        page = mark.kwargs["page"] or item.callspec.params[mark.kwargs["parameter"]]
        lane.submit(item.nodeid, setting, example_path(page))
    return lane
