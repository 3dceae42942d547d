"""The data cache: one directory, atomic writes, checksums, short network timeouts.

Everything a loader writes goes through :func:`atomic_path`: it is written to a
temporary name beside the target and renamed only once it is complete and
verified, so an interrupted fetch leaves nothing that looks valid.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATA_ENV = "TORCHFLOW_DATA"
OFFLINE_ENV = "TORCHFLOW_OFFLINE"
NETWORK_TIMEOUT = float(os.environ.get("TORCHFLOW_NETWORK_TIMEOUT", "10"))
REPO_DATA = Path(__file__).resolve().parents[2] / "data"


class DataError(RuntimeError):
    """A dataset that is missing, corrupt or cannot be fetched; the message names the fix."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a loader actually used: printed on every page that trains on it."""

    name: str
    split: str
    count: int
    source: str
    licence: str
    note: str = ""

    def describe(self) -> str:
        text = f"{self.name} ({self.split}), {self.count:,} items, from {self.source}; {self.licence}"
        return text + (f". {self.note}" if self.note else "")


def data_dir() -> Path:
    """The cache directory: ``$TORCHFLOW_DATA``, else ``data/cache`` in a checkout, else ``~/.cache/torchflow``."""
    if os.environ.get(DATA_ENV):
        path = Path(os.environ[DATA_ENV]).expanduser()
    elif (REPO_DATA / "README.md").exists():
        path = REPO_DATA / "cache"
    else:
        path = Path.home() / ".cache" / "torchflow"
    path.mkdir(parents=True, exist_ok=True)
    return path


def embedded_dir() -> Path:
    """Where the small real subsets that ship with TorchFlow live."""
    if (REPO_DATA / "embedded").is_dir():
        return REPO_DATA / "embedded"
    from importlib.resources import files

    return Path(str(files("torchflow") / "_embedded"))


def offline() -> bool:
    """True when ``TORCHFLOW_OFFLINE`` forbids any download attempt."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes"}


def file_digest(path: Path, algorithm: str = "sha256", *, gunzip: bool = False) -> str:
    """Hex digest of a file (of its decompressed bytes when ``gunzip``)."""
    digest = hashlib.new(algorithm)
    opener = gzip.open if gunzip else open
    try:
        with opener(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except (OSError, EOFError) as error:  # gzip raises these on truncated input
        raise DataError(
            f"{path} is unreadable or truncated ({error}); delete it and run "
            f"`python -m torchflow.data fetch` to fetch it again"
        ) from error
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success only."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    try:
        yield tmp
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def download(url: str, target: Path, *, md5: str | None = None, sha256: str | None = None) -> Path:
    """Download ``url`` to ``target`` with a short timeout, verify it, then rename into place."""
    if offline():
        raise DataError(f"cannot download {url}: ${OFFLINE_ENV} is set")
    with atomic_path(target) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=NETWORK_TIMEOUT) as response, open(tmp, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0)
                _copy_with_progress(response, out, total, target.name)
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            raise DataError(
                f"could not download {url} ({error}). Offline? Install the offline source named by "
                f"`python -m torchflow.data list`, or put the file at {target} yourself"
            ) from error
        for algorithm, expected in (("md5", md5), ("sha256", sha256)):
            if expected and file_digest(tmp, algorithm) != expected:
                raise DataError(f"{url} downloaded with a wrong {algorithm} checksum; nothing was kept")
    return target


def copy_verified(source: Path, target: Path) -> Path:
    """Copy a file into the cache atomically."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return target


def _copy_with_progress(src, dst, total: int, label: str) -> None:
    bar = None
    if total > 5 * 2**20:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="B", unit_scale=True, desc=label)
        except ImportError:
            bar = None
    for block in iter(lambda: src.read(1 << 16), b""):
        dst.write(block)
        if bar is not None:
            bar.update(len(block))
    if bar is not None:
        bar.close()
