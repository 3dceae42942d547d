"""What a reader of the site meets before any result: the package that installs, the links above each
tutorial, the book's order, twins told apart in every figure."""

from __future__ import annotations

import colorsys
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture
def book(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "docs" / "_ext"))
    import book

    return book


def test_every_package_of_torchflow_is_in_the_wheel():
    """A package missing from [tool.setuptools] packages installs nowhere but an editable checkout."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "torchflow").rglob("__init__.py")}
    assert found - listed == set()
    embedded = {f"torchflow._embedded.{d.name}" for d in (ROOT / "data" / "embedded").iterdir() if d.is_dir()}
    assert embedded - listed == set()


def test_the_distribution_name_is_not_the_unrelated_torchflow_on_pypi_and_the_licence_is_spdx():
    assert PYPROJECT["project"]["name"] == "torchflow-book"
    assert PYPROJECT["project"]["license"] == "MIT" and (ROOT / "LICENSE").is_file()
    assert set(PYPROJECT["project"]["urls"]) >= {"Repository", "Issues"}


def test_extras_that_name_the_project_name_it_by_its_distribution_name():
    """``all = ["torchflow[torch,tf]"]`` made pip fetch the unrelated PyPI ``torchflow`` and no framework at all
    (a CI run failed on it): a self-reference must use the distribution name."""
    import re

    name = PYPROJECT["project"]["name"]
    own = {"torchflow", name}
    for extra, requirements in PYPROJECT["project"]["optional-dependencies"].items():
        for requirement in requirements:
            base = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
            if base in own:
                assert base == name, f"extra {extra!r} requires {requirement!r}, not {name}[...]"
    assert any(r.startswith(f"{name}[") for r in PYPROJECT["project"]["optional-dependencies"]["all"])


def test_tutorials_sort_in_the_books_order(book):
    paths = sorted((str(p) for p in (ROOT / "examples").glob("*/plot_*.py")), key=book.book_order)
    chapters = [Path(p).parent.name for p in paths]
    assert chapters == sorted(chapters, key=book.CHAPTERS.index)
    assert [Path(p).name for p in paths[:3]] == ["plot_1_classifier.py", "plot_2_spatial_transformer.py",
                                                   "plot_3_transfer_learning.py"]


def test_the_go_to_the_end_note_becomes_the_run_it_yourself_links(book):
    note = (".. only:: html\n\n    .. note::\n        :class: sphx-glr-download-link-note\n\n"
            "        :ref:`Go to the end <sphx_glr_download_auto_examples_vae_plot_1_vae.py>`\n"
            "        to download the full example code.\n")
    source = [f"\n.. DO NOT EDIT.\n\n{note}\n.. rst-class:: sphx-glr-example-title\n"]
    book.on_source_read(None, "auto_examples/vae/plot_1_vae", source)
    text = source[0]
    assert "Go to the end" not in text
    for link in (":download:`Download the script <plot_1_vae.py>`",
                 ":download:`Download the notebook <plot_1_vae.ipynb>`",
                 "colab.research.google.com/github/", "/blob/notebooks/vae/plot_1_vae.ipynb",
                 "Report a problem with this page", "issues/new?title=[vae/plot_1_vae]"):
        assert link in text, link
    index = [".. _sphx_glr_auto_examples_vae:\n"]
    book.on_source_read(None, "auto_examples/vae/index", index)
    assert index[0].startswith(":orphan:")  # listed once, under its chapter, not again by the gallery


def test_the_first_notebook_cell_installs_the_package_only_where_it_is_missing(book, monkeypatch):
    code = book.FIRST_NOTEBOOK_CELL.replace("%matplotlib inline", "")
    calls = []
    import subprocess

    monkeypatch.setattr(subprocess, "check_call", lambda args: calls.append(args))
    exec(compile(code, "first cell", "exec"), {})
    assert calls == []  # torchflow imports here: nothing is installed
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    exec(compile(code, "first cell", "exec"), {})
    (args,) = calls
    assert args[:4] == [sys.executable, "-m", "pip", "install"] and args[-1].startswith("torchflow-book[all] @ git+")


def test_the_twins_differ_in_hue_marker_and_line_style():
    from torchflow.plot import FRAMEWORK_COLOURS, FRAMEWORK_HATCHES, FRAMEWORK_LINESTYLES, FRAMEWORK_MARKERS

    def hue(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return colorsys.rgb_to_hsv(r, g, b)[0] * 360

    gap = abs(hue(FRAMEWORK_COLOURS["torch"]) - hue(FRAMEWORK_COLOURS["tensorflow"]))
    assert min(gap, 360 - gap) > 90  # the old pair (#ee4c2c, #ff8f00) were 25 degrees apart: two oranges
    for styles in (FRAMEWORK_MARKERS, FRAMEWORK_LINESTYLES, FRAMEWORK_HATCHES):
        assert styles["torch"] != styles["tensorflow"]


def test_a_curve_figure_draws_the_twins_in_their_own_colour_and_style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from torchflow.plot import FRAMEWORK_COLOURS, plot_curves

    ax = plot_curves({"torch": [3, 2, 1], "tensorflow": [3.1, 2.1, 1.1]})
    torch_line, tf_line = ax.lines
    assert matplotlib.colors.to_hex(torch_line.get_color()) == FRAMEWORK_COLOURS["torch"].lower()
    assert torch_line.get_marker() != tf_line.get_marker() and torch_line.get_linestyle() != tf_line.get_linestyle()
    plt.close("all")


def test_the_readme_quotes_the_one_record_of_the_books_times():
    times = tomllib.loads((ROOT / "benchmarks" / "times.toml").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"about {times['book']['cpu']['minutes']:g} minutes" in readme
    running = (ROOT / "docs" / "running.md").read_text(encoding="utf-8")
    assert "{{ book_cpu_minutes }}" in running and " min " not in running  # no second, hand-copied figure
