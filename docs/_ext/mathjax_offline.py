"""MathJax 3 served from the site itself, so that math renders without internet.

Sphinx loads MathJax from a CDN by default, which a reader (or a build machine,
or the browser test) without internet cannot reach. This module copies MathJax
from its npm package into ``docs/_static/mathjax`` (git-ignored), and conf.py
points ``mathjax_path`` there.

As a script (``python docs/_ext/mathjax_offline.py [--tarball FILE] [--force]``)
it vendors MathJax; as a Sphinx extension it vendors MathJax at the start of a
build when the copy is missing, and if that fails it says so and falls back to
the CDN. The package comes from ``npm pack mathjax@VERSION`` (the npm registry,
or npm's cache with ``--prefer-offline``) or from a local tarball given with
``--tarball`` or ``$TORCHFLOW_MATHJAX_TARBALL``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

MATHJAX_VERSION = "3.2.2"
ENTRY = "tex-mml-chtml.js"  # TeX and MathML input, HTML-CSS output, the menu
LOCAL_PATH = f"mathjax/{ENTRY}"  # relative to _static, as conf.py's mathjax_path
CDN_URL = f"https://cdn.jsdelivr.net/npm/mathjax@{MATHJAX_VERSION}/es5/{ENTRY}"
TARBALL_ENV = "TORCHFLOW_MATHJAX_TARBALL"
DOCS = Path(__file__).resolve().parent.parent
TARGET = DOCS / "_static" / "mathjax"
# what the page loads: the combined component, and what it loads lazily (TeX
# extensions, fonts, the menu, accessibility); not the other combined builds
KEEP = (ENTRY, "input/", "output/chtml", "output/chtml.js", "ui/", "a11y/", "sre/", "adaptors/")


class MathJaxUnavailable(RuntimeError):
    pass


def installed(target: Path = TARGET) -> bool:
    """Is the wanted version of MathJax in ``target``?"""
    version = target / "VERSION"
    return (target / ENTRY).is_file() and version.is_file() and version.read_text().strip() == MATHJAX_VERSION


def _npm_pack(destination: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise MathJaxUnavailable("npm is not installed (Debian: apt-get install npm)")
    spec = f"mathjax@{MATHJAX_VERSION}"
    result = subprocess.run([npm, "pack", spec, "--prefer-offline", "--silent", "--pack-destination", str(destination)],
                            capture_output=True, text=True, timeout=300)
    tarballs = sorted(destination.glob("mathjax-*.tgz"))
    if result.returncode != 0 or not tarballs:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise MathJaxUnavailable(f"`npm pack {spec}` failed (no network and not in npm's cache?): "
                                 + " / ".join(detail))
    return tarballs[0]


def _extract(tarball: Path, destination: Path) -> None:
    prefix = "package/es5/"
    with tarfile.open(tarball, "r:gz") as archive:
        members = []
        for member in archive.getmembers():
            if not member.name.startswith(prefix) or not (member.isfile() or member.isdir()):
                continue
            relative = member.name[len(prefix):]
            if not relative or ".." in Path(relative).parts or not relative.startswith(KEEP):
                continue
            member.name = relative
            members.append(member)
        if not any(m.name == ENTRY for m in members):
            raise MathJaxUnavailable(f"{tarball} is not a MathJax 3 package: it has no es5/{ENTRY}")
        archive.extractall(destination, members=members, filter="data")


def vendor(target: Path = TARGET, tarball: Path | str | None = None, force: bool = False) -> Path:
    """Put MathJax ``MATHJAX_VERSION`` into ``target`` (unless it is there); returns the entry file."""
    target = Path(target)
    if installed(target) and not force:
        return target / ENTRY
    tarball = tarball or os.environ.get(TARBALL_ENV)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".mathjax-") as tmp:
        tmp_path = Path(tmp)
        source = Path(tarball) if tarball else _npm_pack(tmp_path)
        if not source.is_file():
            raise MathJaxUnavailable(f"no MathJax tarball at {source}")
        staged = tmp_path / "mathjax"
        _extract(source, staged)
        (staged / "VERSION").write_text(MATHJAX_VERSION + "\n")
        if target.exists():
            shutil.rmtree(target)
        staged.replace(target)  # all or nothing: a failed copy leaves no half-vendored MathJax
    return target / ENTRY


# ------------------------------------------------------------------- Sphinx
def _check(app, config) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    if config.mathjax_path != LOCAL_PATH:
        return  # someone chose another MathJax on purpose
    target = Path(app.confdir) / "_static" / "mathjax"
    if installed(target):
        return
    try:
        vendor(target)
        logger.info(f"MathJax {MATHJAX_VERSION} vendored into {target}")
    except (MathJaxUnavailable, OSError, subprocess.SubprocessError, tarfile.TarError) as error:
        config.mathjax_path = CDN_URL
        logger.warning(
            f"MathJax is not vendored ({target / ENTRY} is missing) and could not be vendored: {error}. "
            f"The pages load MathJax from {CDN_URL}, so math renders only for readers with internet. "
            f"Fix: `python docs/_ext/mathjax_offline.py` where npm can reach its registry, or "
            f"`python docs/_ext/mathjax_offline.py --tarball mathjax-{MATHJAX_VERSION}.tgz` "
            f"(or ${TARBALL_ENV}) with a tarball from `npm pack mathjax@{MATHJAX_VERSION}`.",
            type="torchflow", subtype="mathjax",
        )


def setup(app):
    app.connect("config-inited", _check, priority=100)
    return {"version": MATHJAX_VERSION, "parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"Vendor MathJax {MATHJAX_VERSION} into {TARGET}.")
    parser.add_argument("--tarball", help="a local mathjax-*.tgz (from `npm pack`) instead of npm")
    parser.add_argument("--force", action="store_true", help="replace an existing copy")
    parser.add_argument("--target", default=str(TARGET))
    args = parser.parse_args(argv)
    try:
        entry = vendor(Path(args.target), args.tarball, args.force)
    except MathJaxUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in entry.parent.rglob("*") if p.is_file())
    print(f"MathJax {MATHJAX_VERSION}: {entry} ({size / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
