"""The data store: the source policy, the settings of the cache and the network, the dataset record.

Files in the cache (checksums, locks, atomic writes, downloads) are :mod:`torchflow.data.filestore`;
reading inside archives, :mod:`torchflow.data.archives`; the embedded data, :mod:`torchflow.data.manifests`.

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

Everything written to the cache goes through :func:`~torchflow.data.filestore.atomic_path`: it is written to a
temporary name of its own beside the target and renamed only once it is complete and verified,
so an interrupted fetch leaves nothing that looks valid, and a failed re-fetch keeps the old copy.
Two processes sharing one cache is the normal case (``nox -s docs`` runs two pages at once):
each cache entry has an inter-process lock (:func:`~torchflow.data.filestore.entry_lock`, a ``.<name>.lock`` file beside
it) held while it is checked, downloaded, validated and renamed, so a second process waits for
the first one's result and reuses it instead of writing over it. A cache that cannot be
written (read-only, or ``TORCHFLOW_DATA`` naming a file) is a :class:`DataError` naming the
fix, so a loader falls back to the data that needs no cache.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
