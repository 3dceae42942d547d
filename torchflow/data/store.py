"""The data cache: one directory, atomic writes, checksums, short network timeouts.

Everything a loader writes goes through :func:`atomic_path`: it is written to a
temporary name beside the target and renamed only once it is complete and
verified, so an interrupted fetch leaves nothing that looks valid.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DATA_ENV = "TORCHFLOW_DATA"
OFFLINE_ENV = "TORCHFLOW_OFFLINE"
NETWORK_TIMEOUT = float(os.environ.get("TORCHFLOW_NETWORK_TIMEOUT", "10"))
REPO_DATA = Path(__file__).resolve().parents[2] / "data"


class DataError(RuntimeError):
    """A dataset that is missing, corrupt or cannot be fetched; the message names the fix."""


class CorruptFileError(DataError):
    """A file that is there but wrong (checksum, truncation, format): reported, never replaced silently."""


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
    """The cache: ``$TORCHFLOW_DATA``, else ``data/cache`` in a checkout, else ``~/.cache/torchflow``."""
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
        raise CorruptFileError(
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


# Hosts that failed once in this process are not tried again: a machine without the
# internet pays one short failure, not one per loader call.
_UNREACHABLE: set[str] = set()


def download(url: str, target: Path, *, md5: str | None = None, sha256: str | None = None,
             validate=None) -> Path:
    """Download ``url`` to ``target`` with a short timeout, verify it, then rename into place.

    ``validate(tmp_path)`` may raise :class:`DataError` to reject a wrong-format file; nothing
    is kept then. Without a published ``sha256`` the digest of the accepted file is recorded
    beside it (``<target>.sha256``) so later loads and ``verify`` detect any change.
    """
    if offline():
        raise DataError(f"cannot download {url}: ${OFFLINE_ENV} is set")
    host = urlsplit(url).netloc
    if host in _UNREACHABLE:
        raise DataError(f"cannot download {url}: {host} was unreachable earlier in this run")
    with atomic_path(target) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=NETWORK_TIMEOUT) as response, open(tmp, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0)
                _copy_with_progress(response, out, total, target.name)
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            if not isinstance(error, urllib.error.HTTPError):
                _UNREACHABLE.add(host)
            raise DataError(
                f"could not download {url} ({error}). Offline? Install the offline source named by "
                f"`python -m torchflow.data list`, or put the file at {target} yourself"
            ) from error
        for algorithm, expected in (("md5", md5), ("sha256", sha256)):
            if expected and file_digest(tmp, algorithm) != expected:
                raise DataError(f"{url} downloaded with a wrong {algorithm} checksum; nothing was kept")
        if validate is not None:
            try:
                validate(tmp)
            except DataError as error:
                raise DataError(f"{url} downloaded but was rejected ({error}); nothing was kept") from error
        if not sha256:
            record_digest(target, file_digest(tmp, "sha256"))
    return target


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def record_digest(target: Path, digest: str) -> None:
    """Write ``<target>.sha256`` (atomically): the digest a file had when it was accepted."""
    with atomic_path(_sidecar(target)) as tmp:
        tmp.write_text(f"{digest}  {target.name}\n")


def check_cached(target: Path, sha256: str | None = None, *, fix: str) -> Path:
    """Check a cached download against its published checksum, else against the digest recorded
    when it was fetched; raise :class:`DataError` naming the file and ``fix`` on any mismatch."""
    expected = sha256
    if expected is None and _sidecar(target).is_file():
        expected = (_sidecar(target).read_text().split() or [None])[0]
    if expected is None:
        raise CorruptFileError(f"{target} has no checksum to check it against (no published one and no "
                        f"{_sidecar(target).name} beside it); {fix}")
    actual = file_digest(target, "sha256")
    if actual != expected:
        raise CorruptFileError(
            f"{target} has the wrong checksum (truncated, corrupt or replaced: sha256 {actual[:12]}…,"
            f" expected {expected[:12]}…); {fix}"
        )
    return target


def obtain(url: str, target: Path, *, sha256: str | None = None, validate=None, fix: str) -> Path:
    """The cached, checked copy of ``url``: checked if present, else downloaded (may raise)."""
    if target.is_file():
        return check_cached(target, sha256, fix=fix)
    return download(url, target, sha256=sha256, validate=validate)


# ----------------------------------------------------------------------------- embedded data


def read_manifest(folder: str) -> dict:
    """The ``manifest.json`` of one embedded folder (its files, checksums, counts, source, licence)."""
    path = embedded_dir() / folder / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"missing {path}: the embedded data is not installed; reinstall TorchFlow or "
                        f"`git checkout data/embedded/{folder}`") from None
    except json.JSONDecodeError as error:
        raise DataError(
            f"{path} is not valid JSON ({error}); `git checkout data/embedded/{folder}`"
        ) from error


def read_embedded_text(folder: str, filename: str) -> str:
    """Decompress one embedded file and check it against its manifest; return its text."""
    manifest = read_manifest(folder)
    entry = manifest["files"].get(filename)
    path = embedded_dir() / folder / filename
    rebuild = manifest.get("rebuild", "see data/README.md")
    fix = f"`git checkout data/embedded/{folder}` or rebuild it: {rebuild}"
    if entry is None:
        raise DataError(f"{filename} is not listed in {folder}/manifest.json; {fix}")
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise DataError(f"missing embedded file {path}; {fix}") from None
    except (OSError, EOFError) as error:
        raise CorruptFileError(f"{path} is truncated or not gzip ({error}); {fix}") from error
    if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
        raise CorruptFileError(
            f"{path} does not match the checksum in its manifest (corrupt or edited); {fix}"
        )
    return raw.decode("utf-8")


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
