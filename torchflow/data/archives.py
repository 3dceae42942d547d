"""Reading inside downloaded archives: zip members by exact name, CRC-checked, gzip and TSV text."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

from torchflow.data.filestore import fetch_fix
from torchflow.data.store import (
    CorruptFileError,
    DataError,
)


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
