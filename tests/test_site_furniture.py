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
    tests = times["tests"]
    assert f"about {tests['embedded_minutes']:g} minutes on 2 cores after the install ({tests['full_minutes']:g} " \
           "when CI's second leg" in readme
    running = (ROOT / "docs" / "running.md").read_text(encoding="utf-8")
    assert "{{ book_cpu_minutes }}" in running and " min " not in running  # no second, hand-copied figure


FRAMEWORK_SYNC = {"PyTorch": "torch", "TensorFlow": "tensorflow", "Keras": "tensorflow"}
SYNC_GROUP = "framework"


def _directives(path: Path) -> list[tuple[int, str, str, dict[str, str]]]:
    """The tab-sets and tab-items of a page's source: (line, directive, argument, options).

    rST in an example's comment cells (``# .. tab-item:: PyTorch``), in ``docs/*.rst``, and MyST
    fences in ``docs/*.md`` (```` ```{tab-item} PyTorch ```` or ``:::{tab-item}``).
    """
    import re

    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".py":
        lines = [line[2:] if line.startswith("# ") else "" if line.startswith("#") else "" for line in lines]
    start = re.compile(r"^\s*(?:\.\.\s+(tab-set|tab-item)::|(?:`{3,}|:{3,})\{(tab-set|tab-item)\})\s*(.*?)\s*$")
    option = re.compile(r"^\s*:([\w-]+):\s*(.*?)\s*$")
    found = []
    for number, line in enumerate(lines):
        match = start.match(line)
        if not match:
            continue
        options = {}
        for following in lines[number + 1 :]:
            opt = option.match(following)
            if not opt:
                break
            options[opt.group(1)] = opt.group(2)
        found.append((number + 1, match.group(1) or match.group(2), match.group(3), options))
    return found


def _page_sources() -> list[Path]:
    """The examples and the hand-written pages (not what the build generates into docs/)."""
    generated = {"_build", "auto_examples", "gen_modules", "_static", "generated"}
    docs = [p for p in (ROOT / "docs").rglob("*") if p.suffix in {".md", ".rst"}
            and not generated & set(p.relative_to(ROOT / "docs").parts)]
    return sorted([*(ROOT / "examples").glob("*/*.py"), *docs])


def test_every_framework_tab_carries_its_sync_key_so_one_choice_switches_every_tab_set():
    """Choosing TensorFlow once shows TensorFlow in every tab-set of the page, and of the next page
    (sphinx-design keeps the choice per sync group in the browser's local storage)."""
    missing, framework_items = [], 0
    for path in _page_sources():
        tab_set = None
        for line, directive, argument, options in _directives(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            if directive == "tab-set":
                tab_set = (where, options)
                continue
            wanted = FRAMEWORK_SYNC.get(argument)
            if wanted is None:
                continue
            framework_items += 1
            if options.get("sync") != wanted:
                missing.append(f"{where}: tab-item {argument} needs ':sync: {wanted}', has {options.get('sync')!r}")
            if tab_set is None or tab_set[1].get("sync-group") != SYNC_GROUP:
                missing.append(f"{tab_set[0] if tab_set else where}: its tab-set needs ':sync-group: {SYNC_GROUP}'")
    assert framework_items >= 36  # two per model section of the 18 pages that have one
    assert sorted(set(missing)) == []


def test_the_sync_key_check_reads_rst_in_comments_and_myst_fences(tmp_path):
    page = tmp_path / "plot_0_x.py"
    page.write_text("# .. tab-set::\n#    :sync-group: framework\n#\n#    .. tab-item:: PyTorch\n#       :sync: torch\n"
                    "#\n#    .. tab-item:: TensorFlow\n#\n#       text\n", encoding="utf-8")
    assert [(d, a, o) for _, d, a, o in _directives(page)] == [
        ("tab-set", "", {"sync-group": "framework"}), ("tab-item", "PyTorch", {"sync": "torch"}),
        ("tab-item", "TensorFlow", {})]
    page = tmp_path / "page.md"
    page.write_text("::::{tab-set}\n:sync-group: framework\n\n:::{tab-item} TensorFlow\n:sync: tensorflow\n",
                    encoding="utf-8")
    assert [(d, a, o) for _, d, a, o in _directives(page)] == [
        ("tab-set", "", {"sync-group": "framework"}), ("tab-item", "TensorFlow", {"sync": "tensorflow"})]


def test_a_strip_thumbnail_shows_its_middle_at_a_legible_size(book, tmp_path):
    from PIL import Image

    strip = Image.new("RGBA", (400, 280), (255, 255, 255, 0))
    strip.paste(Image.new("RGBA", (400, 80), (10, 20, 30, 255)), (0, 100))  # a 5:1 row of images
    strip.paste(Image.new("RGBA", (20, 80), (200, 0, 0, 255)), (190, 100))  # its middle
    path = tmp_path / "sphx_glr_plot_1_x_thumb.png"
    strip.save(path)
    assert book.unstrip_thumbnail(path)
    image = Image.open(path).convert("RGBA")
    assert image.size == (400, 280)
    left, top, right, bottom = image.getchannel("A").getbbox()
    assert (right - left) / (bottom - top) == pytest.approx(2.5, rel=0.02) and right - left == 400
    assert image.getpixel((200, 140))[:3] == (200, 0, 0)  # the middle is kept, larger
    assert not book.unstrip_thumbnail(path)  # already legible: left as it is
    square = tmp_path / "square_thumb.png"
    Image.new("RGBA", (400, 280), (0, 0, 0, 255)).save(square)
    before = square.read_bytes()
    assert not book.unstrip_thumbnail(square) and square.read_bytes() == before
