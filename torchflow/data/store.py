"""The data store: the source policy, the cache, checksums, atomic writes, short network timeouts.

**Where a dataset comes from** is decided here, and only here, by :func:`resolve`. A loader
lists the places its dataset can come from (:class:`Source`), in the book's fixed order of
preference, and :func:`resolve` takes the first that the switch allows and that has the data:

1. ``cache``: a checked copy of the canonical files in the cache (from an earlier download);
2. ``package``: a full copy installed by a system package (Debian's ``dataset-fashion-mnist``);
3. ``download``: the canonical files, downloaded and checked (never when ``TORCHFLOW_OFFLINE=1``);
4. ``embedded``: the small real data that ships with TorchFlow under ``data/embedded``.

The switch is ``TORCHFLOW_SOURCES``: a comma-separated subset of ``download`` (the canonical
data: 1 and 3), ``package`` (2) and ``embedded`` (4); empty or unset means all of them. The
order above holds whatever order the variable names them in. ``TORCHFLOW_OFFLINE=1`` keeps a
cached download usable but forbids any network access. The :class:`DatasetInfo` of what was
loaded records the source used (``source``, ``is_subset``) and why (``reason``).

Everything written to the cache goes through :func:`atomic_path`: it is written to a
temporary name of its own beside the target and renamed only once it is complete and verified,
so an interrupted fetch leaves nothing that looks valid, and a failed re-fetch keeps the old copy.
Two processes sharing one cache is the normal case (``nox -s docs`` runs two pages at once):
each cache entry has an inter-process lock (:func:`entry_lock`, a ``.<name>.lock`` file beside
it) held while it is checked, downloaded, validated and renamed, so a second process waits for
the first one's result and reuses it instead of writing over it. A cache that cannot be
written (read-only, or ``TORCHFLOW_DATA`` naming a file) is a :class:`DataError` naming the
fix, so a loader falls back to the data that needs no cache.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from torchflow import config

DATA_ENV = "TORCHFLOW_DATA"
OFFLINE_ENV = "TORCHFLOW_OFFLINE"
SOURCES_ENV = "TORCHFLOW_SOURCES"
NETWORK_TIMEOUT_ENV, NETWORK_TIMEOUT = "TORCHFLOW_NETWORK_TIMEOUT", 10.0  # seconds, the default
REPO_DATA = Path(__file__).resolve().parents[2] / "data"

# The values TORCHFLOW_SOURCES accepts, in the order they are tried, and what each allows.
SOURCE_CHOICES = {
    "download": "the canonical data: a checked copy in the cache, else a download (not when offline)",
    "package": "a full copy installed by a system package (Debian dataset-fashion-mnist)",
    "embedded": "the small real data that ships with TorchFlow (data/embedded)",
}
# The kinds of Source, in the order resolve() tries them, and the switch value that allows each.
SOURCE_KINDS = {"cache": "download", "package": "package", "download": "download", "embedded": "embedded"}
# A loader's ``source=`` argument takes the values of TORCHFLOW_SOURCES, "auto" (the variable's
# setting) and two older names.
SOURCE_ALIASES = {"canonical": ("download",), "offline": ("package", "embedded"), "all": tuple(SOURCE_CHOICES)}


class DataError(RuntimeError):
    """A dataset that is missing, corrupt or cannot be fetched; the message names the fix."""


class CorruptFileError(DataError):
    """A file that is there but wrong (checksum, truncation, format): reported, never replaced silently."""


class Unavailable(DataError):
    """No source that the switch allows has the dataset here; the message names the fix,
    ``reasons`` say briefly why each source was passed over."""

    def __init__(self, message: str, reasons: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.reasons = list(reasons)


@dataclass(frozen=True)
class DatasetInfo:
    """What a loader actually used: printed on every page that trains on it.

    ``origin`` is where exactly (URL, folder, package); ``source`` is which kind of source:
    ``"cache"`` (an earlier canonical download), ``"download"``, ``"package"`` or ``"embedded"``;
    ``is_subset`` is True when the data is not the full canonical dataset (an embedded subset or
    stand-in), so a page can say "trained on the embedded subset"; ``reason`` says why that source
    was chosen; ``what`` says what the data is next to the canonical one.
    """

    name: str
    split: str
    count: int
    origin: str
    licence: str
    note: str = ""
    source: str = ""
    is_subset: bool = False
    reason: str = ""
    what: str = ""

    def describe(self) -> str:
        text = f"{self.name} ({self.split}), {self.count:,} items"
        if self.what:
            text += f": {self.what}"
        text += f", from {self.origin}"
        if self.reason:
            text += f", chosen because {self.reason}"
        text += f"; {self.licence}"
        return text + (f". {self.note}" if self.note else "")


def data_dir() -> Path:
    """The cache: ``$TORCHFLOW_DATA``, else ``data/cache`` in a checkout, else ``~/.cache/torchflow``.

    A path that is not a folder and cannot be made one raises :class:`DataError` naming the fix."""
    if os.environ.get(DATA_ENV, "").strip():
        path = Path(os.environ[DATA_ENV].strip()).expanduser()
    elif (REPO_DATA / "README.md").exists():
        path = REPO_DATA / "cache"
    else:
        path = Path.home() / ".cache" / "torchflow"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file of that name, a read-only parent, ...
        raise DataError(f"the data cache {path} cannot be used ({error.strerror or error}); set {DATA_ENV} to a "
                        f"writable folder") from None
    return path


def embedded_dir() -> Path:
    """Where the small real subsets that ship with TorchFlow live."""
    if (REPO_DATA / "embedded").is_dir():
        return REPO_DATA / "embedded"
    from importlib.resources import files

    return Path(str(files("torchflow") / "_embedded"))


def offline() -> bool:
    """True when ``TORCHFLOW_OFFLINE`` forbids any download attempt."""
    return config.flag(OFFLINE_ENV)


def network_timeout() -> float:
    """Seconds a download may wait for the server: ``TORCHFLOW_NETWORK_TIMEOUT`` (default 10)."""
    return config.number(NETWORK_TIMEOUT_ENV, NETWORK_TIMEOUT, minimum=0.1)


# ----------------------------------------------------------------------------- the source policy


def allowed_sources(source: str | None = None) -> tuple[str, ...]:
    """The switch values allowed, in :data:`SOURCE_CHOICES` order.

    ``source`` ``None`` or ``"auto"`` reads ``$TORCHFLOW_SOURCES``; else it is a value of the same
    form (``"embedded"``, ``"package,embedded"``), or ``"canonical"`` / ``"offline"``.
    """
    from_env = source is None or source == "auto"
    raw = os.environ.get(SOURCES_ENV, "").strip() if from_env else source
    label = f"{SOURCES_ENV}={raw!r}" if from_env else f"source={raw!r}"
    if from_env and raw and not raw.replace(",", "").strip():
        raise DataError(f"{label} names no source: use a comma-separated subset of {', '.join(SOURCE_CHOICES)}, "
                        f"or leave it unset for all of them")
    chosen: set[str] = set()
    for word in (w.strip().lower() for w in raw.split(",")):
        if word in SOURCE_CHOICES:
            chosen.add(word)
        elif word in SOURCE_ALIASES:
            chosen.update(SOURCE_ALIASES[word])
        elif word:
            raise DataError(
                f"unknown source {word!r} in {label}: accepted values are "
                f"{', '.join(SOURCE_CHOICES)} (comma-separated; unset means all)"
            )
    return tuple(c for c in SOURCE_CHOICES if c in chosen) if chosen else tuple(SOURCE_CHOICES)


def sources_setting() -> str:
    """The switch as set now, for messages: ``TORCHFLOW_SOURCES=embedded`` or ``all sources allowed``."""
    allowed = allowed_sources()
    text = "all sources allowed" if len(allowed) == len(SOURCE_CHOICES) else f"{SOURCES_ENV}={','.join(allowed)}"
    return text + (f", {OFFLINE_ENV}=1" if offline() else "")


@dataclass(frozen=True)
class Source:
    """One place a dataset can come from.

    ``load()`` returns the dataset (an object with an ``info`` :class:`DatasetInfo`) or raises
    :class:`DataError` when the data is not there; ``present()`` says cheaply, without the
    network, whether the files are here (a ``download`` source is present when not offline).
    ``where`` names the place, ``get`` how to make it available, ``what`` what the data is next
    to the canonical dataset (empty: the full canonical data).
    """

    kind: str
    load: Callable[[], Any]
    present: Callable[[], bool]
    where: str
    get: str = ""
    what: str = ""

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind {self.kind!r}; one of {', '.join(SOURCE_KINDS)}")


def _label(source: str | None) -> str:
    if source is None or source == "auto":
        return f"{SOURCES_ENV}={','.join(allowed_sources())}"
    return f"source={source!r}"


_MISSING = {"cache": "there is no copy in the cache", "package": "{where} is not installed",
            "embedded": "{where} is missing"}


def _allowed(candidate: Source, allowed: Sequence[str], label: str) -> str | None:
    """None when ``candidate`` may be used now, else why not."""
    if SOURCE_KINDS[candidate.kind] not in allowed:
        return label
    if candidate.kind == "download" and offline():
        return f"{OFFLINE_ENV}=1 forbids the download"
    try:
        present = candidate.kind == "download" or candidate.present()
    except DataError as error:  # e.g. a cache folder that cannot be used: say why, try the next source
        return f"{candidate.where} cannot be used ({_short(error)})"
    if not present:
        return _MISSING[candidate.kind].format(where=candidate.where)
    return None


def _short(error: Exception) -> str:
    first = str(error).split("; ")[0].split(". ")[0]
    return first if len(first) <= 160 else first[:157] + "..."


def _unavailable(dataset: str, sources: Sequence[Source], allowed: Sequence[str], why: list[str],
                 errors: list[str], label: str) -> Unavailable:
    fixes = []
    for candidate in sources:
        switch = SOURCE_KINDS[candidate.kind]
        if switch not in allowed:
            fix = f"allow {switch} ({SOURCES_ENV}={','.join((*allowed, switch))})"
        elif candidate.kind == "download" and offline():
            fix = f"unset {OFFLINE_ENV} to download it"
        else:
            fix = candidate.get
        if fix and fix not in fixes:
            fixes.append(fix)
    setting = label if label.startswith(SOURCES_ENV) else f"{label}, that is {','.join(allowed)}"
    setting += f" and {OFFLINE_ENV}=1" if offline() else ""
    reasons = [w for w in why if w != label]  # the setting is said once
    return Unavailable(
        f"{dataset}: no allowed source has it ({setting}){': ' if reasons else ''}{'; '.join(reasons)}. "
        f"Fix: {', or '.join(fixes) or 'see `python -m torchflow.data list`'}."
        + "".join(f" ({error})" for error in errors),
        why,
    )


def resolve(dataset: str, sources: Sequence[Source], *, source: str | None = None) -> Any:
    """Load ``dataset`` from the first of ``sources`` that the switch allows and that has it.

    ``sources`` come in the order they are tried: the book's order is that of
    :data:`SOURCE_KINDS` (a stand-in's sources may follow a dataset's own). A corrupt file
    (:class:`CorruptFileError`) is raised at once, never papered over with other data; a source
    that is missing or fails otherwise is passed over, and the next one tried. The result's
    ``info`` is stamped with the source used and why; when no source has the data,
    :class:`Unavailable` names the setting and the fix.
    """
    allowed, label = allowed_sources(source), _label(source)
    why: list[str] = []  # brief, for the DatasetInfo of what is used
    errors: list[str] = []  # in full, for the error when nothing can be used
    for candidate in sources:
        reason = _allowed(candidate, allowed, label)
        if reason is None:
            try:
                found = candidate.load()
            except CorruptFileError:
                raise
            except DataError as error:
                reason = f"{candidate.where} failed ({_short(error)})"
                errors.append(f"{candidate.where} failed: {error}")
            else:
                return stamp(found, candidate, why)
        if reason not in why:
            why.append(reason)
    raise _unavailable(dataset, sources, allowed, why, errors, label)


def stamp(found: Any, candidate: Source, why: Sequence[str]) -> Any:
    """``found`` with its ``info`` recording ``candidate`` as the source, and ``why`` it was chosen."""
    reason = "; ".join(why) if why else ("it is the first source allowed" if candidate.kind != "cache"
                                         else "a checked copy is in the cache")
    what = candidate.what or {
        "cache": "the full data (a checked copy of the canonical download)",
        "download": "the full data (downloaded and checked)",
        "package": "the full data",
        "embedded": "the data that ships with TorchFlow",
    }[candidate.kind]
    info = dataclasses.replace(found.info, source=candidate.kind, is_subset=candidate.kind == "embedded",
                               reason=reason, what=what)
    return dataclasses.replace(found, info=info)


def preview(sources: Sequence[Source], *, source: str | None = None) -> tuple[Source | None, Source | None, list[str]]:
    """Without loading or the network: (the source a loader would take, the one it falls back to
    if that is a download that fails, why earlier ones are passed over)."""
    allowed, label = allowed_sources(source), _label(source)
    why: list[str] = []
    chosen = None
    for candidate in sources:
        reason = _allowed(candidate, allowed, label)
        if reason is None:
            if chosen is None:
                chosen = candidate
                if candidate.kind != "download":
                    return chosen, None, why
            else:
                return chosen, candidate, why
        elif chosen is None and reason not in why:
            why.append(reason)
    return chosen, None, why


# ----------------------------------------------------------------------------- checksums and downloads


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


# ----------------------------------------------------------------------------- archives


def zip_validator(*members: str, min_sizes: dict[str, int] | None = None):
    """A ``validate`` for a zip that must hold ``members`` (exact names, see :func:`zip_member`)."""

    def validate(path: Path) -> None:
        with open_zip(path, "", strict=False) as archive:
            try:  # every member's CRC, before the archive is trusted and its digest recorded
                damaged = archive.testzip()
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
                raise DataError(f"{path} is damaged ({error})") from error
            if damaged is not None:
                raise DataError(f"{path}: member {damaged} fails its CRC check (a damaged archive)")
            for member in members:
                info = archive.getinfo(zip_member(archive, member, path))
                least = (min_sizes or {}).get(member, 1)
                if info.file_size < least:
                    raise DataError(f"{path}: {member} holds {info.file_size:,} bytes, fewer than {least:,}"
                                    f" (wrong format)")

    return validate


def open_zip(path: Path, name: str, *, strict: bool = True) -> zipfile.ZipFile:
    """Open a zip; a damaged one raises :class:`CorruptFileError` naming ``fetch_fix(name)``
    (or a plain :class:`DataError` when not ``strict``, for a download being validated)."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        if not strict:
            raise DataError(f"{path} is not a zip archive (wrong format): {error}") from error
        raise CorruptFileError(f"{path} is not a valid zip (wrong format: {error}); {fetch_fix(name)}") from error


def zip_member(archive: zipfile.ZipFile, suffix: str, path: Path) -> str:
    """The one member whose name is ``suffix`` or ends in ``/suffix``, outside ``__MACOSX/`` (macOS
    resource forks such as ``__MACOSX/dir/._movie_lines.txt`` are never data)."""
    matches = [n for n in archive.namelist()
               if not n.startswith("__MACOSX/") and (n == suffix or n.endswith("/" + suffix))]
    if len(matches) != 1:
        raise DataError(f"{path} has {len(matches)} members named {suffix} (wrong format)")
    return matches[0]


def read_gzip(path: Path, fix: str, what: str = "data file") -> bytes:
    """The decompressed bytes of ``path``; a missing, truncated or non-gzip file names ``fix``."""
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise DataError(f"missing {what} {path}; {fix}") from None
    except (OSError, EOFError) as error:
        raise CorruptFileError(f"{path} is truncated or not gzip ({error}); {fix}") from error


def read_tsv(text: str, columns: int) -> list[list[str]]:
    """The rows of tab-separated ``text`` that have exactly ``columns`` fields."""
    return [line.split("\t") for line in text.splitlines() if line and line.count("\t") == columns - 1]


# ----------------------------------------------------------------------------- embedded data


def read_manifest(folder: str) -> dict:
    """The ``manifest.json`` of one embedded folder (its files, checksums, counts, source, licence)."""
    path = embedded_dir() / folder / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"missing {path}: the embedded data is not installed; reinstall TorchFlow or "
                        f"`git checkout data/embedded/{folder}`") from None
    except (json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError) as error:
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
    raw = read_gzip(path, fix, "embedded file")
    if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
        raise CorruptFileError(
            f"{path} does not match the checksum in its manifest (corrupt or edited); {fix}"
        )
    return raw.decode("utf-8")


def embedded_info(folder: str, filename: str, name: str, split: str, count: int, note: str = "") -> DatasetInfo:
    """The :class:`DatasetInfo` of an embedded file, its source and licence from its manifest."""
    manifest = read_manifest(folder)
    entry = manifest["files"][filename]
    origin = entry.get("source", manifest["source"])
    return DatasetInfo(name, split, count, f"{origin} [shipped with TorchFlow: data/embedded/{folder}/{filename}]",
                       entry.get("licence", manifest["licence"]), note)


def embedded_source(folder: str, load: Callable[[], Any], what: str) -> Source:
    """The ``embedded`` source of a text dataset kept in ``data/embedded/<folder>``."""
    return Source("embedded", load, lambda: (embedded_dir() / folder / "manifest.json").is_file(),
                  f"data/embedded/{folder}", f"`git checkout data/embedded/{folder}`", what)


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
