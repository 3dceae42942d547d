"""POS-tagged sentences (universal tags) for the LSTM tagger, split ``"train"`` or ``"test"``.

Canonical: UD English-EWT r2.13 (the test file's sha256 pinned). Embedded: the Turkish Web
Treebank (UD CoNLL-U), whose words are split into inflectional-group pieces (``Açık la nma yan``);
``join_pieces=True`` joins each word's pieces back and gives it the tag of its last piece. The
embedded test split is a fixed, seeded 10% of the sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from torchflow.data import filestore, manifests, store
from torchflow.data.filestore import Download
from torchflow.data.store import CorruptFileError, DataError, DatasetInfo

UD_EWT = "https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/r2.13/en_ewt-ud-{split}.conllu"
UD_EWT_SHA256 = {
    # 1,758,286 bytes, 2,077 sentences, 25,094 tokens
    "test": "1655a2756f3db5386ad0fb08bef94a018827cc1c67ba097f16b9bde93ad2a188",
}
POS_SPLIT_SEED = 0
POS_TEST_FRACTION = 0.1


@dataclass(frozen=True)
class TaggedSentences:
    """``words[i][j]`` has the universal POS tag ``tags[i][j]``; ``tagset`` is sorted."""

    words: list[list[str]]
    tags: list[list[str]]
    tagset: tuple[str, ...]
    info: DatasetInfo

    def __len__(self) -> int:
        return len(self.words)

    @property
    def token_count(self) -> int:
        return sum(len(s) for s in self.words)

    def describe(self) -> str:
        return self.info.describe()


def parse_conllu(text: str, path: object = "CoNLL-U") -> list[list[tuple[str, str]]]:
    """Sentences of ``(form, UPOS)`` from CoNLL-U text (multi-word ranges and empty nodes skipped)."""
    sentences, current = [], []
    for number, line in enumerate(text.splitlines() + [""], start=1):
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
            continue
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise CorruptFileError(f"{path}, line {number}: {len(cols)} columns, CoNLL-U has 10 (wrong format)")
        if cols[0].isdigit():
            current.append((cols[1], cols[3]))
    return sentences


def _validate_conllu(path: Path) -> None:
    try:
        parse_conllu(path.read_text(encoding="utf-8"), path)
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text (wrong format)") from error


def ewt_download(split: str) -> Download:
    """The canonical CoNLL-U file of ``split``."""
    return Download(UD_EWT.format(split=split), f"ud-english-ewt/en_ewt-ud-{split}.conllu",
                    sha256=UD_EWT_SHA256.get(split), validate=_validate_conllu,
                    unpinned="" if split in UD_EWT_SHA256 else "no published checksum found for this file")


def _embedded_split(split: str, join_pieces: bool) -> TaggedSentences:
    text = manifests.read_embedded_text("pos-turkish", "twt.tsv.gz")
    manifest = manifests.read_manifest("pos-turkish")["files"]["twt.tsv.gz"]
    sentences = []
    for line in text.splitlines():
        tokens = [token.split("\x1f") for token in line.split("\t")]
        if any(len(t) != 3 for t in tokens):
            raise CorruptFileError("pos-turkish/twt.tsv.gz: a token without 3 fields (wrong format)")
        sentences.append(tokens)
    order = np.random.default_rng(POS_SPLIT_SEED).permutation(len(sentences))
    cut = int(round(len(sentences) * POS_TEST_FRACTION))
    chosen = np.sort(order[:cut] if split == "test" else order[cut:])
    words, tags = [], []
    for i in chosen:
        w, t, pending = [], [], ""
        for form, tag, joins in sentences[i]:
            if join_pieces and joins == "1":
                pending += form
                continue
            w.append(pending + form)
            t.append(tag)
            pending = ""
        words.append(w)
        tags.append(t)
    note = (
        f"Turkish, not English: offline stand-in for UD English-EWT. {sum(map(len, words)):,} "
        f"{'words' if join_pieces else 'tokens (inflectional-group pieces)'}."
    )
    info = manifests.embedded_info("pos-turkish", "twt.tsv.gz", "Turkish Web Treebank (UD)", split, len(words), note)
    return TaggedSentences(words, tags, tuple(manifest["tags"]), info)


def sources(split: str = "train", join_pieces: bool = False) -> list:
    """Where the ``split`` can come from, in the order they are tried."""

    def canonical(paths: list[Path]) -> TaggedSentences:
        sentences = parse_conllu(paths[0].read_text(encoding="utf-8"), paths[0])
        words = [[w for w, _ in s] for s in sentences]
        tags = [[t for _, t in s] for s in sentences]
        info = DatasetInfo("UD English-EWT r2.13", split, len(words), UD_EWT.format(split=split), "CC BY-SA 4.0",
                           f"{sum(map(len, words)):,} tokens.")
        return TaggedSentences(words, tags, tuple(sorted({t for s in tags for t in s})), info)

    return [*filestore.canonical_sources("pos", [ewt_download(split)], canonical),
            manifests.embedded_source("pos-turkish", lambda: _embedded_split(split, join_pieces),
                            "the embedded stand-in (Turkish, not English)")]


def load_pos(split: str = "train", *, source: str = "auto", join_pieces: bool = False) -> TaggedSentences:
    """POS-tagged sentences, ``split`` ``"train"`` or ``"test"`` (module docstring);
    ``source`` as in :func:`torchflow.data.load_images`."""
    if split not in ("train", "test"):
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")
    return store.resolve("pos", sources(split, join_pieces), source=source)


# the switch value that allows only the source a split was loaded from
_SAME_SOURCE = {"cache": "canonical", "download": "canonical", "embedded": "embedded"}


def load_pos_splits(*, source: str = "auto", join_pieces: bool = False) -> tuple[TaggedSentences, TaggedSentences]:
    """The training and test sentences, always from the same source: the test split is loaded from
    the source the training split came from (never English test sentences with a Turkish training set)."""
    train = load_pos("train", source=source, join_pieces=join_pieces)
    test = load_pos("test", source=_SAME_SOURCE.get(train.info.source, train.info.source), join_pieces=join_pieces)
    if test.info.name != train.info.name:
        raise DataError(f"the POS splits come from different treebanks: {train.info.name} and {test.info.name}")
    return train, test
