"""Publish the built notebooks on the ``notebooks`` branch, where every page's "Open in Colab" link points.

    nox -s docs                        # builds docs/auto_examples/<chapter>/<page>.ipynb
    python tools/publish_notebooks.py  # one new commit on the local branch `notebooks`
    git push origin notebooks          # where there is network

The branch holds ``<chapter>/<page>.ipynb`` at its root (the path ``docs/_ext/book.py`` links to) and a
README. The commit is written with git's plumbing and a temporary index, so the working tree, the index
and the checked-out branch are not touched; an unchanged set of notebooks makes no new commit. A
notebook that is not valid JSON with cells stops it before anything is written.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = """# TorchFlow's notebooks

Built by `nox -s docs` and published by `tools/publish_notebooks.py`: one notebook per page of the book,
`<chapter>/<page>.ipynb`, as the "Open in Colab" links of the site expect. Do not edit them here: they are
generated from `examples/` on the main branch. Source commit: {source}.
"""


def git(repo: Path, *args: str, env: dict | None = None, stdin: bytes | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=repo, env=env, input=stdin, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.decode().strip()}")
    return result.stdout.decode().strip()


def notebooks(source: Path) -> dict[str, bytes]:
    """``<chapter>/<page>.ipynb`` -> bytes, each checked to be a notebook."""
    found = {}
    for path in sorted(source.glob("*/plot_*.ipynb")):
        body = path.read_bytes()
        try:
            cells = json.loads(body)["cells"]
        except (ValueError, KeyError, TypeError) as error:
            raise SystemExit(f"{path} is not a notebook ({error}); rebuild it with `nox -s docs`") from None
        if not cells:
            raise SystemExit(f"{path} has no cells; rebuild it with `nox -s docs`")
        found[f"{path.parent.name}/{path.name}"] = body
    if not found:
        raise SystemExit(f"no notebooks under {source}: build the book first (`nox -s docs`)")
    return found


def publish(repo: Path, source: Path, branch: str = "notebooks") -> str | None:
    """Commit the notebooks under ``source`` on ``branch`` of ``repo``; the new commit, or None if unchanged."""
    files = notebooks(source)
    head = git(repo, "rev-parse", "--short", "HEAD")
    files["README.md"] = README.format(source=head).encode()
    ref = f"refs/heads/{branch}"
    parent = subprocess.run(["git", "rev-parse", "--verify", "-q", ref], cwd=repo, capture_output=True,
                            text=True).stdout.strip() or None
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(repo, "read-tree", "--empty", env=env)
        for path, body in files.items():
            blob = git(repo, "hash-object", "-w", "--stdin", stdin=body)
            git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = git(repo, "write-tree", env=env)
    if parent is not None and git(repo, "rev-parse", f"{parent}^{{tree}}") == tree:
        return None
    message = f"notebooks built from {head}"
    commit = git(repo, "commit-tree", tree, *(["-p", parent] if parent else []), "-m", message)
    git(repo, "update-ref", ref, commit, *([parent] if parent else []))
    return commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT / "docs" / "auto_examples",
                        help="the built gallery (default docs/auto_examples)")
    parser.add_argument("--branch", default="notebooks")
    parser.add_argument("--repo", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    commit = publish(args.repo, args.source, args.branch)
    count = len(list(args.source.glob("*/plot_*.ipynb")))
    print(f"{args.branch}: {'unchanged' if commit is None else f'{count} notebooks, commit {commit[:12]}'}; "
          f"`git push origin {args.branch}` publishes it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
