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
* :func:`unstrip_thumbnail` (``builder-inited``, after the gallery): a thumbnail whose figure is wider than
  2.5:1 (a row of images, two panels side by side) shows the figure's middle at a legible size instead of a
  thin strip across the box. Each page chooses its figure with ``# sphinx_gallery_thumbnail_number``.
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


MAX_THUMBNAIL_ASPECT = 2.5  # the widest (or tallest) a thumbnail's picture may be, width to height


def unstrip_thumbnail(path: Path, box: tuple[int, int] = (400, 280), max_aspect: float = MAX_THUMBNAIL_ASPECT) -> bool:
    """Crop a strip of a thumbnail (its picture, without sphinx-gallery's transparent margins) to ``max_aspect``
    about its centre and refit it in the box; False where it was not a strip (and nothing is written)."""
    from PIL import Image

    image = Image.open(path).convert("RGBA")
    bbox = image.getchannel("A").getbbox()
    if bbox is None:
        return False
    picture = image.crop(bbox)
    width, height = picture.size
    if width > max_aspect * height:
        keep = int(round(max_aspect * height))
        picture = picture.crop(((width - keep) // 2, 0, (width - keep) // 2 + keep, height))
    elif height > max_aspect * width:
        keep = int(round(max_aspect * width))
        picture = picture.crop((0, (height - keep) // 2, width, (height - keep) // 2 + keep))
    else:
        return False
    scale = min(box[0] / picture.width, box[1] / picture.height)
    picture = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                             Image.Resampling.BICUBIC)
    thumbnail = Image.new("RGBA", box, (255, 255, 255, 0))
    thumbnail.paste(picture, ((box[0] - picture.width) // 2, (box[1] - picture.height) // 2))
    thumbnail.save(path)
    return True


def on_gallery_written(app) -> None:
    box = tuple(app.config.sphinx_gallery_conf.get("thumbnail_size", (400, 280)))
    for path in sorted(Path(app.srcdir).glob("auto_examples/*/images/thumb/sphx_glr_*_thumb.png")):
        unstrip_thumbnail(path, box)


def setup(app):
    app.connect("source-read", on_source_read)
    app.connect("builder-inited", on_gallery_written, priority=900)  # sphinx-gallery writes them at 500
    app.add_css_file("torchflow.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
