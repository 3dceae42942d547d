"""Dialogue pairs ``(query, reply)`` for the chatbot: adjacent turns of conversations.

Canonical: Cornell Movie-Dialogs (its zip's sha256 pinned). Embedded: the English ChatterBot corpus.
"""

from __future__ import annotations

from pathlib import Path

from torchflow.data import archives, filestore, manifests, store
from torchflow.data.filestore import Download
from torchflow.data.pairs import Pairs
from torchflow.data.store import CorruptFileError, DataError, DatasetInfo

CORNELL_ZIP = "https://www.cs.cornell.edu/~cristian/data/cornell_movie_dialogs_corpus.zip"
# As pinned by several public projects.
CORNELL_SHA256 = "3bde8a571f615201bc2d2453e22878090719638592f774720eddec739de8c900"
CORNELL_LINES, CORNELL_CONVERSATIONS = "movie_lines.txt", "movie_conversations.txt"
CORNELL_DOWNLOAD = Download(CORNELL_ZIP, "cornell-movie-dialogs/cornell_movie_dialogs_corpus.zip",
                            sha256=CORNELL_SHA256,
                            validate=archives.zip_validator(CORNELL_LINES, CORNELL_CONVERSATIONS))
# The corpus has hundreds of thousands of adjacent-turn pairs; far fewer means the wrong members were read.
CORNELL_MIN_PAIRS = 1_000


def cornell_pairs(path: Path, min_pairs: int | None = None) -> list[tuple[str, str]]:
    """The adjacent-turn pairs of the Cornell zip at ``path``. Members are matched by exact name
    (``__MACOSX/._movie_lines.txt`` resource forks are skipped), and fewer than ``min_pairs``
    pairs is an error, never a silently empty dataset."""
    min_pairs = CORNELL_MIN_PAIRS if min_pairs is None else min_pairs
    sep = " +++$+++ "
    with archives.open_zip(path, "dialogue") as archive:
        try:
            lines_member = archives.zip_member(archive, CORNELL_LINES, path)
            convs_member = archives.zip_member(archive, CORNELL_CONVERSATIONS, path)
        except DataError as error:
            raise CorruptFileError(f"{error}; {filestore.fetch_fix('dialogue')}") from error
        lines = {}
        for line in archive.read(lines_member).decode("iso-8859-1").splitlines():
            cols = line.split(sep)
            if len(cols) == 5:
                lines[cols[0]] = " ".join(cols[4].split())
        pairs = []
        for line in archive.read(convs_member).decode("iso-8859-1").splitlines():
            cols = line.split(sep)
            if len(cols) != 4:
                continue
            ids = [i.strip(" '") for i in cols[3].strip("[] ").split(",")]
            turns = [lines.get(i, "") for i in ids]
            pairs += [(a, b) for a, b in zip(turns, turns[1:], strict=False) if a and b]
    if len(pairs) < min_pairs:
        raise CorruptFileError(f"{path} yields only {len(pairs):,} dialogue pairs (at least {min_pairs:,} "
                               f"expected: wrong members or wrong format); {filestore.fetch_fix('dialogue')}")
    return pairs


def sources() -> list:
    """Where the pairs can come from, in the order they are tried."""

    def canonical(paths: list[Path]) -> Pairs:
        pairs = cornell_pairs(paths[0])
        return Pairs(pairs, DatasetInfo("Cornell Movie-Dialogs", "all", len(pairs), CORNELL_ZIP,
                                        "for research use (Danescu-Niculescu-Mizil and Lee, 2011)"))

    def embedded() -> Pairs:
        rows = archives.read_tsv(manifests.read_embedded_text("dialogue", "chatterbot-english.tsv.gz"), 4)
        info = manifests.embedded_info(
            "dialogue", "chatterbot-english.tsv.gz", "ChatterBot English corpus", "all", len(rows),
            "Offline stand-in for Cornell Movie-Dialogs: adjacent turns of short conversations.",
        )
        return Pairs([(query, reply) for _, _, query, reply in rows], info)

    return [*filestore.canonical_sources("dialogue", [CORNELL_DOWNLOAD], canonical),
            manifests.embedded_source("dialogue", embedded, "the embedded stand-in (ChatterBot's short conversations)")]


def load_dialogue(*, source: str = "auto") -> Pairs:
    """Dialogue pairs ``(query, reply)``; ``source`` as in :func:`torchflow.data.load_images`."""
    return store.resolve("dialogue", sources(), source=source)
