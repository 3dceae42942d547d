"""The embedded data that ships with TorchFlow: each folder's ``manifest.json`` and checked reads of its files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from torchflow.data import store
from torchflow.data.archives import read_gzip
from torchflow.data.store import (
    CorruptFileError,
    DataError,
    DatasetInfo,
    Source,
)


def read_manifest(folder: str) -> dict:
    """The ``manifest.json`` of one embedded folder (its files, checksums, counts, source, licence)."""
    path = store.embedded_dir() / folder / "manifest.json"
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
    path = store.embedded_dir() / folder / filename
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
    return Source("embedded", load, lambda: (store.embedded_dir() / folder / "manifest.json").is_file(),
                  f"data/embedded/{folder}", f"`git checkout data/embedded/{folder}`", what)
