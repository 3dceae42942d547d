"""The intersphinx inventories the book links code names with, committed in ``docs/_inventories``.

The build is offline, so Sphinx cannot fetch a project's ``objects.inv``: each
inventory is a committed file, mapped in conf.py as ``(online URL, local file)``
(the URL is where the links point, the file is what Sphinx reads). Only the
files that exist are mapped, so a refreshed inventory is used by the next build
with no other change.

- ``python.inv``: from Debian's ``python3.11-doc`` package
  (``/usr/share/doc/python3.11/html/objects.inv``), the Python of the docs venv.
- NumPy, PyTorch and Matplotlib have no offline source here (no Debian documentation
  package, no wheel that ships the inventory): their names are not linked until
  ``nox -s inventories`` is run where there is network.

As a script (``python docs/_ext/inventories.py [NAME ...]``, ``nox -s inventories``)
it downloads each inventory, checks that it is a Sphinx inventory (version 2,
zlib-compressed), and writes it here; one that cannot be fetched is kept as it
is, and the script says so.
"""

from __future__ import annotations

import sys
import urllib.request
import zlib
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
FOLDER = DOCS / "_inventories"
# name: the documentation's root, where the links point (its objects.inv sits there)
INVENTORIES = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "torch": "https://docs.pytorch.org/docs/stable/",
    "matplotlib": "https://matplotlib.org/stable/",
}


def local_file(name: str, folder: Path = FOLDER) -> Path:
    return folder / f"{name}.inv"


def intersphinx_mapping(folder: Path = FOLDER) -> dict[str, tuple[str, str]]:
    """conf.py's ``intersphinx_mapping``: every committed inventory, with the URL its links point to."""
    return {name: (url, str(local_file(name, folder))) for name, url in INVENTORIES.items()
            if local_file(name, folder).is_file()}


def missing(folder: Path = FOLDER) -> list[str]:
    """The inventories that are not committed: those projects' names are not linked."""
    return [name for name in INVENTORIES if not local_file(name, folder).is_file()]


def check_inventory(data: bytes) -> int:
    """The number of entries of a Sphinx version-2 inventory; ValueError if ``data`` is none."""
    lines = data.split(b"\n", 4)
    if len(lines) < 5 or lines[0].strip() != b"# Sphinx inventory version 2" or b"zlib" not in lines[3]:
        raise ValueError("not a Sphinx version-2 inventory")
    try:
        body = zlib.decompress(lines[4])
    except zlib.error as error:
        raise ValueError(f"its body does not decompress: {error}") from error
    return len([line for line in body.splitlines() if line.strip()])


def refresh(names: list[str] | None = None, folder: Path = FOLDER, timeout: float = 30) -> list[str]:
    """Download the inventories named (all by default); returns those that could not be fetched."""
    folder.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names or list(INVENTORIES):
        url = INVENTORIES[name] + "objects.inv"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed https URLs
                data = response.read()
            count = check_inventory(data)
        except (OSError, ValueError) as error:
            kept = "kept the committed file" if local_file(name, folder).is_file() else "none committed"
            print(f"{name}: {url}: {error} ({kept})")
            failed.append(name)
            continue
        local_file(name, folder).write_bytes(data)
        print(f"{name}: {count} entries from {url} -> {local_file(name, folder)}")
    return failed


if __name__ == "__main__":
    unknown = [name for name in sys.argv[1:] if name not in INVENTORIES]
    if unknown:
        sys.exit(f"unknown inventories {unknown}; known: {sorted(INVENTORIES)}")
    sys.exit(1 if refresh(sys.argv[1:] or None) else 0)
