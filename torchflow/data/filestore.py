"""Files in the cache: checksums, one lock per entry, atomic writes, checked downloads.

A canonical file is a :class:`Download` (its URL, its place in the cache, its published digests);
:meth:`Download.fetch` checks a cached copy or downloads one under the entry's inter-process lock
(:func:`entry_lock`), writing through :func:`atomic_path` so nothing half-written is ever used.
:func:`canonical_sources` turns a dataset's files into the ``cache`` and ``download`` sources that
:func:`torchflow.data.store.resolve` chooses between.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from torchflow.data.store import (
    DATA_ENV,
    OFFLINE_ENV,
    SOURCES_ENV,
    CorruptFileError,
    DataError,
    Source,
    data_dir,
    network_timeout,
    offline,
)


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


LOCK_TIMEOUT = 3600.0  # seconds a process waits for another one's download or judge training
_LOCKS: dict[str, Any] = {}  # one lock object per entry and process: re-entrant within the process


def _unwritable(folder: Path, error: OSError) -> DataError:
    return DataError(f"cannot write to the data cache {folder} ({error.strerror or error}); set {DATA_ENV} to a "
                     f"writable folder, or {SOURCES_ENV}=embedded to use the data that ships with TorchFlow")


@contextlib.contextmanager
def entry_lock(target: Path) -> Iterator[None]:
    """Hold the inter-process lock of the cache entry ``target`` (``.<name>.lock`` beside it).

    Re-entrant within one process; another process waits (saying so once) up to :data:`LOCK_TIMEOUT`.
    Where no lock file can be made (a read-only cache) the entry is used without one: nothing can be
    written there, so nothing half-written can be seen."""
    from filelock import FileLock, Timeout

    lock = _LOCKS.get(str(target))
    if lock is None:
        lock = _LOCKS[str(target)] = FileLock(target.with_name(f".{target.name}.lock"))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            lock.acquire(timeout=0.5)
        except Timeout:
            print(f"waiting for another process to finish preparing {target} ...", flush=True)
            lock.acquire(timeout=LOCK_TIMEOUT)
    except Timeout:
        raise DataError(f"{target} was locked by another process for {LOCK_TIMEOUT:.0f} s; if no other process "
                        f"is preparing it, delete {lock.lock_file}") from None
    except OSError:
        yield  # read-only: no lock can be taken and none is needed
        return
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path of this writer's own beside ``target``; rename it onto ``target`` on success only.

    The entry's lock is held throughout, so temporary files of the same entry left by a writer that died
    are removed first; a cache that cannot be written raises :class:`DataError` naming the fix."""
    with entry_lock(target):
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            for stale in target.parent.glob(f".{glob_escape(target.name)}.*partial"):
                stale.unlink(missing_ok=True)
            handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        except OSError as error:
            raise _unwritable(target.parent, error) from error
        os.close(handle)
        tmp = Path(name)
        try:
            yield tmp
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    """``name`` with the characters glob treats specially escaped."""
    import glob

    return glob.escape(name)


# Hosts that failed once in this process are not tried again: a machine without the
# internet pays one short failure, not one per loader call.
_UNREACHABLE: set[str] = set()


@dataclass(frozen=True)
class Download:
    """One canonical file: its URL, its place in the cache, and how it is checked.

    ``sha256``/``md5`` are published digests of the file; ``content_sha256`` of its gunzipped
    bytes (for files also shipped re-compressed by a package). A file without any published
    digest is trusted on first use: ``unpinned`` says why, and the digest it had when it was
    accepted (downloaded, or put in place by hand and passing ``validate``) is recorded in
    ``<file>.sha256`` beside it, so any later change is caught.
    """

    url: str
    path: str
    sha256: str | None = None
    md5: str | None = None
    content_sha256: str | None = None
    validate: Callable[[Path], None] | None = None
    unpinned: str = ""

    @property
    def target(self) -> Path:
        return data_dir() / self.path

    @property
    def pinned(self) -> bool:
        return bool(self.sha256 or self.md5 or self.content_sha256)

    def cached(self) -> bool:
        return self.target.is_file()

    def check(self, fix: str) -> Path:
        """The cached file, checked (see :func:`check_cached`)."""
        return check_cached(self.target, self.sha256, fix=fix, md5=self.md5,
                            content_sha256=self.content_sha256, validate=self.validate)

    def fetch(self, fix: str, *, force: bool = False) -> Path:
        """The cached, checked file: checked if present (unless ``force``), else downloaded.
        A forced download replaces the cached copy only once it is complete and checked. The entry's
        lock is held throughout: a process that finds another one downloading waits and uses its file."""
        with entry_lock(self.target):
            if self.cached() and not force:
                return self.check(fix)
            if offline():
                raise DataError(f"{self.path} is not in the cache ({self.target}) and ${OFFLINE_ENV} is set")
            return download(self.url, self.target, md5=self.md5, sha256=self.sha256,
                            content_sha256=self.content_sha256, validate=self.validate)


def download(url: str, target: Path, *, md5: str | None = None, sha256: str | None = None,
             content_sha256: str | None = None, validate=None) -> Path:
    """Download ``url`` to ``target`` with a short timeout, verify it, then rename into place.

    ``validate(tmp_path)`` may raise :class:`DataError` to reject a wrong-format file; nothing
    is kept then (and a file already at ``target`` stays as it was). Without a published
    ``sha256`` the digest of the accepted file is recorded beside it (``<target>.sha256``) so
    later loads and ``verify`` detect any change.
    """
    if offline():
        raise DataError(f"cannot download {url}: ${OFFLINE_ENV} is set")
    host = urlsplit(url).netloc
    if host in _UNREACHABLE:
        raise DataError(f"cannot download {url}: {host} was unreachable earlier in this run")
    with atomic_path(target) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=network_timeout()) as response, open(tmp, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0)
                _copy_with_progress(response, out, total, target.name)
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            if not isinstance(error, urllib.error.HTTPError):
                _UNREACHABLE.add(host)
            raise DataError(
                f"could not download {url} ({error}). Offline? Install the offline source named by "
                f"`python -m torchflow.data list`, or put the file at {target} yourself (it is checked "
                f"{'against its published checksum' if sha256 or md5 or content_sha256 else 'by format'}"
                f" when next loaded)"
            ) from error
        for algorithm, expected, gunzip in (("md5", md5, False), ("sha256", sha256, False),
                                            ("sha256", content_sha256, True)):
            if expected and file_digest(tmp, algorithm, gunzip=gunzip) != expected:
                raise DataError(f"{url} downloaded with a wrong {algorithm} checksum; nothing was kept")
        if validate is not None:
            try:
                validate(tmp)
            except DataError as error:
                raise DataError(f"{url} downloaded but was rejected ({error}); nothing was kept") from error
        if not sha256:
            record_digest(target, file_digest(tmp, "sha256"))
    return target


def sidecar(target: Path) -> Path:
    """``<target>.sha256``: the digest a cached file had when it was accepted."""
    return target.with_name(target.name + ".sha256")


def record_digest(target: Path, digest: str) -> None:
    """Write ``<target>.sha256`` (atomically): the digest a file had when it was accepted."""
    with atomic_path(sidecar(target)) as tmp:
        tmp.write_text(f"{digest}  {target.name}\n")


def check_cached(target: Path, sha256: str | None = None, *, fix: str, md5: str | None = None,
                 content_sha256: str | None = None, validate=None) -> Path:
    """Check a cached file against its published checksum, else against the digest recorded when it
    was accepted; raise :class:`CorruptFileError` naming the file and ``fix`` on any mismatch.

    A file with no published checksum and no recorded digest was put there by hand: it is accepted
    when it passes ``validate`` (the format check a download passes), and its digest recorded.
    """
    with entry_lock(target):  # a first use records the digest: not while another process writes the file
        return _check_cached(target, sha256, fix=fix, md5=md5, content_sha256=content_sha256, validate=validate)


def _recorded_digest(target: Path, fix: str) -> str:
    try:
        return (sidecar(target).read_text(encoding="ascii").split() or [""])[0]
    except (OSError, UnicodeDecodeError) as error:
        raise CorruptFileError(f"{sidecar(target)}, the digest recorded for {target.name}, is unreadable "
                               f"({error}); {fix}") from error


def _check_cached(target: Path, sha256: str | None = None, *, fix: str, md5: str | None = None,
                  content_sha256: str | None = None, validate=None) -> Path:
    checks = [(name, expected, gunzip) for name, expected, gunzip in
              (("sha256", sha256, False), ("md5", md5, False), ("sha256", content_sha256, True)) if expected]
    if not checks and sidecar(target).exists():
        checks = [("sha256", _recorded_digest(target, fix), False)]
    if not checks:
        if validate is not None:
            try:
                validate(target)
            except DataError as error:
                raise CorruptFileError(f"{target} was put in the cache but is rejected ({error}); {fix}") from error
        record_digest(target, file_digest(target, "sha256"))
        return target
    for algorithm, expected, gunzip in checks:
        actual = file_digest(target, algorithm, gunzip=gunzip)
        if actual != expected:
            raise CorruptFileError(
                f"{target} has the wrong checksum (truncated, corrupt or replaced: {algorithm} {actual[:12]}…,"
                f" expected {expected[:12]}…); {fix}"
            )
    return target


def fetch_fix(name: str) -> str:
    """The advice for a corrupt cached file of the dataset ``name``."""
    return (f"run `python -m torchflow.data fetch --force {name}` to fetch it again (the bad copy is "
            f"replaced only by a good one), or set {SOURCES_ENV}=embedded to use the embedded data")


def canonical_sources(name: str, files: Sequence[Download], parse: Callable[[list[Path]], Any]) -> list[Source]:
    """The ``cache`` and ``download`` sources of a dataset made of ``files``: ``parse(paths)``
    reads the checked files into the dataset."""

    def load() -> Any:
        return parse([item.fetch(fetch_fix(name)) for item in files])

    where = f"the download from {urlsplit(files[0].url).netloc}"
    return [
        Source("cache", load, lambda: all(item.cached() for item in files), f"a copy of {name} in the cache"),
        Source("download", load, lambda: not offline(), where, f"connect to the internet and run "
               f"`python -m torchflow.data fetch {name}`"),
    ]


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
