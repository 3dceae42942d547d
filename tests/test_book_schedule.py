"""docs/_ext/schedule.py: the whole book's examples in one pool, longest first."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def schedule(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "docs" / "_ext"))
    import schedule

    return schedule


def _makespan(order, seconds, workers=2):
    """Each job to the worker free first (what joblib does with pre_dispatch=n_jobs, batch_size=1)."""
    free = [0.0] * workers
    for job in order:
        worker = free.index(min(free))
        free[worker] += seconds[job]
    return max(free)


def test_longest_first_puts_unmeasured_pages_first_and_keeps_the_books_order_on_ties(schedule):
    jobs = [(Path("a"), Path("A"), name) for name in ("plot_1_x.py", "plot_2_y.py", "plot_3_z.py", "plot_4_new.py")]
    ordered = schedule.longest_first(jobs, {"plot_1_x": 10.0, "plot_2_y": 30.0, "plot_3_z": 10.0})
    assert [job[2] for job in ordered] == ["plot_4_new.py", "plot_2_y.py", "plot_1_x.py", "plot_3_z.py"]


def test_the_measured_cpu_book_splits_onto_two_workers_within_a_minute_of_perfect(schedule):
    seconds = schedule.measured_seconds("cpu")
    jobs = [(Path("."), Path("."), f"{stem}.py") for stem in seconds]
    order = [Path(job[2]).stem for job in schedule.longest_first(jobs, seconds)]
    assert _makespan(order, seconds) <= sum(seconds.values()) / 2 + 60
    # sphinx-gallery alone: one chapter at a time, each in the book's order, the next after the slowest
    by_chapter = sum(_makespan(sorted(path.stem for path in chapter.glob("plot_*.py")), seconds)
                     for chapter in (ROOT / "examples").iterdir() if chapter.is_dir())
    assert _makespan(order, seconds) < by_chapter - 120


def test_every_tutorial_has_a_measured_cpu_time(schedule):
    """A new page without one runs first (safe), but the README's build time would not include it."""
    pages = {path.stem for path in (ROOT / "examples").glob("*/plot_*.py")}
    assert pages == set(schedule.measured_seconds("cpu"))
    assert schedule.measured_seconds("no-such-budget") == {}


def test_times_toml_keeps_pages_apart_from_the_book_totals():
    times = tomllib.loads((ROOT / "benchmarks" / "times.toml").read_text(encoding="utf-8"))
    assert set(times["book"]) == {"smoke", "cpu", "full"}
    assert all(isinstance(value, int | float) and value > 0 for value in times["pages"]["cpu"].values())
