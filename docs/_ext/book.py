"""The book's furniture around the gallery: where the book lives, how a reader runs a page, how they report a
mistake, and the book's order of tutorials.

* :data:`URLS` -- read from ``[project.urls]`` in ``pyproject.toml``, the one place the book's address is
  written; the theme's repository and issue buttons, the links above every tutorial and the notebooks'
  first cell all use it.
* Above every tutorial (``source-read`` of the generated ``auto_examples/<chapter>/plot_*.rst``): the page's
  ``.py`` and ``.ipynb`` downloads, "Open in Colab" and "Report a problem with this page", in place of
  sphinx-gallery's "Go to the end to download" note.
* The gallery's own index pages (``auto_examples/index``, ``auto_examples/<chapter>/index``) are kept but
  marked orphan: each tutorial is listed once in the navigation, under its chapter.
* :func:`book_order` sorts tutorials by chapter, then by number (the landing page's minigallery).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
URLS: dict[str, str] = PROJECT["urls"]
DISTRIBUTION = PROJECT["name"]
CHAPTERS = ["cnn", "vae", "gan", "rnn", "embeddings", "seq2seq"]
# Colab opens notebooks from a GitHub branch: the built notebooks are published on this one (docs/running.md).
NOTEBOOK_BRANCH = "notebooks"

FIRST_NOTEBOOK_CELL = f"""\
# This notebook needs the book's package (imported as ``torchflow``). In a clone of the
# repository, install it once with ``pip install -e ".[all]"`` and this cell does nothing;
# elsewhere (Colab, a fresh machine with internet) it installs it from {URLS["Repository"]}.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("torchflow") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           "{DISTRIBUTION}[all] @ git+{URLS["Repository"]}"])
%matplotlib inline"""

_NOTE = re.compile(r"\.\. only:: html\n\n    \.\. note::\n        :class: sphx-glr-download-link-note\n\n"
                   r"        :ref:`Go to the end <[^>]+>`\n        to download the full example code\.\n")


def book_order(path: str) -> tuple[int, str]:
    """Sort key of a tutorial's path: its chapter's place in the book, then its file name."""
    parts = Path(path).parts
    chapter = next((p for p in parts if p in CHAPTERS), "")
    return (CHAPTERS.index(chapter) if chapter else len(CHAPTERS), Path(path).name)


def links_bar(chapter: str, name: str) -> str:
    """The reST of the links above a tutorial."""
    repository = URLS["Repository"].rstrip("/")
    slug = repository.split("github.com/", 1)[-1]
    colab = f"https://colab.research.google.com/github/{slug}/blob/{NOTEBOOK_BRANCH}/{chapter}/{name}.ipynb"
    title = f"[{chapter}/{name}] "
    report = f"{URLS['Issues'].rstrip('/')}/new?title={title.replace(' ', '%20')}"
    return (
        ".. only:: html\n\n"
        "    .. container:: torchflow-run-links\n\n"
        f"        :download:`Download the script <{name}.py>` · "
        f":download:`Download the notebook <{name}.ipynb>` · "
        f"`Open in Colab <{colab}>`__ · "
        f"`Report a problem with this page <{report}>`__\n"
    )


def on_source_read(app, docname: str, source: list[str]) -> None:
    parts = docname.split("/")
    if parts[0] != "auto_examples":
        return
    if parts[-1] == "index" or parts[-1].startswith("sg_execution_times"):
        if not source[0].lstrip().startswith(":orphan:"):
            source[0] = ":orphan:\n\n" + source[0]
        return
    if len(parts) == 3 and parts[2].startswith("plot_"):
        source[0] = _NOTE.sub(lambda _: links_bar(parts[1], parts[2]), source[0], count=1)


def setup(app):
    app.connect("source-read", on_source_read)
    app.add_css_file("torchflow.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
