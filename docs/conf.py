"""Sphinx configuration of the TorchFlow book."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from sphinx_gallery.sorting import ExplicitOrder, FileNameSortKey

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

from _ext.book import FIRST_NOTEBOOK_CELL, URLS, book_order  # noqa: E402
from _ext.inventories import intersphinx_mapping as committed_inventories  # noqa: E402
from _ext.jobs import gallery_jobs, share_cores  # noqa: E402

# TORCHFLOW_JOBS=N runs N examples at once, each with cores // N threads; the
# thread counts must be set before PyTorch or TensorFlow is imported.
jobs = gallery_jobs()
share_cores(jobs)

from torchflow.frameworks import load_in_safe_order  # noqa: E402

load_in_safe_order()  # PyTorch's Triton before TensorFlow: autodoc and the examples import both

project = "TorchFlow"
author = "The TorchFlow authors"
copyright = "2026, the TorchFlow authors"
import torchflow  # noqa: E402

version = release = torchflow.__version__  # in every page's stamp and the theme

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
    "sphinx_design",
    "sphinx_copybutton",
    "myst_parser",
    "_ext.mathjax_offline",  # MathJax from docs/_static/mathjax, vendored from npm when missing
    "_ext.comparison",  # docs/comparison.md from the examples' records, after the gallery has run
    "_ext.api_twins",  # docs/api_twins.rst: the twins' API reference from the family registry
    "_ext.book",  # links above every tutorial, the gallery's index pages kept out of the navigation
    "_ext.schedule",  # the whole book's examples in one pool of workers, longest first
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
_times = tomllib.loads((ROOT / "benchmarks" / "times.toml").read_text(encoding="utf-8"))
myst_substitutions = {f"book_{budget}_{key}": f"{value:g}" if isinstance(value, float | int) else value
                      for budget, entry in _times["book"].items() for key, value in entry.items()}
myst_substitutions |= {f"tests_{key}": f"{value:g}" if isinstance(value, float | int) else value
                       for key, value in _times["tests"].items()}
myst_substitutions["repository"] = URLS["Repository"]
# api_twins.rst is generated and included by api.rst, not a page of its own
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/**/*.ipynb", "api_twins.rst"]
# math renders offline: a local MathJax 3 (see docs/_ext/mathjax_offline.py; CDN fallback with a warning)
mathjax_path = "mathjax/tex-mml-chtml.js"
autodoc_mock_imports: list[str] = []
autosummary_generate = True
# code names link to the projects' docs: the build is offline, so each inventory is a committed file
# (docs/_inventories, refreshed by `nox -s inventories`); only Python's for now, see docs/_ext/inventories.py
intersphinx_mapping = committed_inventories()

html_theme = "sphinx_book_theme"
html_title = "TorchFlow"
html_static_path = ["_static"]
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,  # it offered the generated .rst; each tutorial links its .py and .ipynb on top
    "home_page_in_toc": True,
    "repository_url": URLS["Repository"],  # from pyproject.toml's [project.urls], the one place it is written
    "use_repository_button": True,
    "use_issues_button": True,
    "path_to_docs": "docs",
}

# ---------------------------------------------------------------- the gallery
CHAPTERS = ["cnn", "vae", "gan", "rnn", "embeddings", "seq2seq"]
torchflow_chapters = CHAPTERS  # the order of the comparison page
present = [f"../examples/{name}" for name in CHAPTERS if (ROOT / "examples" / name).is_dir()]
# `nox -s docs -- NAME` (TORCHFLOW_EXAMPLE) runs only the examples whose path matches NAME
only = os.environ.get("TORCHFLOW_EXAMPLE")
in_ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reset_frameworks(gallery_conf, fname, when):
    """Between examples: what one page leaves behind must not reach the next (see the function)."""
    from torchflow.frameworks import reset_between_pages

    reset_between_pages()


sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "subsection_order": ExplicitOrder(present),
    "within_subsection_order": FileNameSortKey,
    "filename_pattern": (rf"{only}" if only else r"/plot_"),
    "ignore_pattern": r"__init__\.py|/_",
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib", reset_frameworks),
    "reset_modules_order": "both",
    "abort_on_example_error": in_ci,
    "only_warn_on_example_error": False,
    "doc_module": ("torchflow",),
    "backreferences_dir": "gen_modules/backreferences",
    "download_all_examples": True,  # one archive of every .py and one of every .ipynb, on the gallery page
    "first_notebook_cell": FIRST_NOTEBOOK_CELL,  # installs the package where it is missing (Colab)
    "minigallery_sort_order": book_order,  # the landing page lists the tutorials in the book's order
    "write_computation_times": False,  # the timing pages loaded scripts from CDNs; the stamps report times
    "show_memory": False,  # the run stamp reports peak memory itself
    "remove_config_comments": True,
    "copyfile_regex": "",
    "matplotlib_animations": False,
    "min_reported_time": 1,
    "parallel": jobs if jobs > 1 else False,  # joblib workers, one example each
}

suppress_warnings = ["config.cache"]  # sphinx_gallery_conf holds a function (reset_frameworks)

# Each example writes a JSON record (metrics, time per step, memory) for the comparison page.
os.environ.setdefault("TORCHFLOW_RECORDS", str(DOCS / "_build" / "records"))
