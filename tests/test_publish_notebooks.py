"""tools/publish_notebooks.py: the built notebooks land on the branch "Open in Colab" links to, and
nothing else in the repository moves."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "docs"))

from _ext.book import links_bar  # noqa: E402
from publish_notebooks import publish  # noqa: E402


def notebook(text: str) -> str:
    return json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": [text]}], "metadata": {},
                       "nbformat": 4, "nbformat_minor": 5})


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "book@example.invalid")
    git(repo, "config", "user.name", "book")
    (repo / "work.txt").write_text("uncommitted work\n")
    git(repo, "add", "work.txt")
    git(repo, "commit", "-qm", "start")
    (repo / "work.txt").write_text("edited, not staged\n")
    return repo


def built(tmp_path, pages):
    source = tmp_path / "auto_examples"
    for path, text in pages.items():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text(notebook(text))
    (source / "vae" / "plot_1_vae.py").write_text("# not a notebook: not published\n")
    return source


def test_notebooks_are_committed_where_the_colab_link_points_and_nothing_else_moves(repo, tmp_path):
    source = built(tmp_path, {"vae/plot_1_vae.ipynb": "VAE", "gan/plot_1_gan.ipynb": "GAN"})
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")
    commit = publish(repo, source)
    assert git(repo, "rev-parse", "notebooks") == commit
    assert sorted(git(repo, "ls-tree", "-r", "--name-only", "notebooks").split()) == [
        "README.md", "gan/plot_1_gan.ipynb", "vae/plot_1_vae.ipynb"]
    assert git(repo, "show", "notebooks:vae/plot_1_vae.ipynb") == notebook("VAE")
    assert "/blob/notebooks/vae/plot_1_vae.ipynb" in links_bar("vae", "plot_1_vae")
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == status
    assert git(repo, "branch", "--show-current") == "main"


def test_unchanged_notebooks_make_no_commit_and_changed_ones_one_more(repo, tmp_path):
    source = built(tmp_path, {"vae/plot_1_vae.ipynb": "VAE"})
    first = publish(repo, source)
    assert publish(repo, source) is None
    (source / "vae" / "plot_1_vae.ipynb").write_text(notebook("VAE, rebuilt"))
    second = publish(repo, source)
    assert git(repo, "rev-parse", f"{second}^") == first


def test_a_broken_notebook_stops_it_before_anything_is_written(repo, tmp_path):
    source = built(tmp_path, {"vae/plot_1_vae.ipynb": "VAE"})
    (source / "vae" / "plot_2_cvae.ipynb").write_text('{"cells": [')  # a half-written file
    with pytest.raises(SystemExit, match="plot_2_cvae.ipynb is not a notebook"):
        publish(repo, source)
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", "notebooks"], cwd=repo).returncode != 0


def test_no_built_book_says_how_to_build_it(repo, tmp_path):
    with pytest.raises(SystemExit, match="nox -s docs"):
        publish(repo, tmp_path / "nothing")
