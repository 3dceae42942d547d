"""Surnames labelled by language (18 languages), for the char-RNN classifier and generator.

Canonical: the PyTorch tutorial's ``data/names/*.txt`` (in its ``data.zip``). Embedded: Faker's
per-locale surname lists (non-Latin scripts transliterated), where Finnish stands in for Scottish.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from torchflow.data import archives, filestore, manifests, store
from torchflow.data.store import CorruptFileError, DatasetInfo
from torchflow.data.tutorial import PYTORCH_TUTORIAL_ZIP, TUTORIAL_DOWNLOAD


@dataclass(frozen=True)
class Surnames:
    """``names[i]`` is a surname in language ``languages[labels[i]]``; labels are ``int64``."""

    names: list[str]
    labels: np.ndarray
    languages: tuple[str, ...]
    info: DatasetInfo

    def __len__(self) -> int:
        return len(self.names)

    def by_language(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {language: [] for language in self.languages}
        for name, label in zip(self.names, self.labels, strict=True):
            groups[self.languages[label]].append(name)
        return groups

    def describe(self) -> str:
        return self.info.describe()


_NO_DECOMPOSITION = str.maketrans(
    {"Đ": "D", "đ": "d", "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae",
     "Œ": "OE", "œ": "oe", "ı": "i"}
)


def to_ascii(text: str) -> str:
    """Strip accents (NFD, drop combining marks), as the PyTorch tutorial does: ``Nguyễn`` -> ``Nguyen``."""
    text = unicodedata.normalize("NFD", text.translate(_NO_DECOMPOSITION))
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def _surnames_from(rows: list[tuple[str, str]], info: DatasetInfo, ascii_only: bool) -> Surnames:
    languages = tuple(sorted({language for language, _ in rows}))
    index = {language: i for i, language in enumerate(languages)}
    names = [to_ascii(name) if ascii_only else name for _, name in rows]
    labels = np.array([index[language] for language, _ in rows], dtype=np.int64)
    return Surnames(names, labels, languages, info)


def _tutorial_rows(path: Path) -> list[tuple[str, str]]:
    rows = []
    with archives.open_zip(path, "surnames") as archive:
        for member in sorted(archive.namelist()):
            if member.startswith("data/names/") and member.endswith(".txt"):
                language = Path(member).stem
                rows += [(language, line.strip()) for line in archive.read(member).decode("utf-8").splitlines()
                         if line.strip()]
    if len({language for language, _ in rows}) != 18:
        raise CorruptFileError(f"{path}: expected 18 name files under data/names/ (wrong format); "
                               f"{filestore.fetch_fix('surnames')}")
    return rows


def sources(ascii_only: bool = False) -> list:
    """Where the surnames can come from, in the order they are tried."""

    def canonical(paths: list[Path]) -> Surnames:
        rows = _tutorial_rows(paths[0])
        info = DatasetInfo("Surnames by language (PyTorch tutorial)", "all", len(rows),
                           f"{PYTORCH_TUTORIAL_ZIP} (data/names)", "as distributed with the PyTorch tutorials")
        return _surnames_from(rows, info, ascii_only)

    def embedded() -> Surnames:
        text = manifests.read_embedded_text("surnames", "surnames.tsv.gz")
        rows = [tuple(line.split("\t", 1)) for line in text.splitlines() if line]
        info = manifests.embedded_info("surnames", "surnames.tsv.gz", "Surnames by language (Faker)", "all", len(rows),
                             "Offline stand-in for the PyTorch tutorial's names: Finnish replaces Scottish.")
        return _surnames_from(rows, info, ascii_only)

    return [*filestore.canonical_sources("surnames", [TUTORIAL_DOWNLOAD], canonical),
            manifests.embedded_source("surnames", embedded, "the embedded stand-in (Faker's surname lists)")]


def load_surnames(*, ascii_only: bool = False, source: str = "auto") -> Surnames:
    """Surnames labelled by language (18 languages); ``source`` as in :func:`torchflow.data.load_images`."""
    return store.resolve("surnames", sources(ascii_only), source=source)
