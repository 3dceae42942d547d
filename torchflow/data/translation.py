"""French->English pairs for the seq2seq chapter, and the :class:`Pairs` they come in.

Canonical: Tatoeba sentence pairs (``eng-fra.txt`` of the PyTorch tutorial zip). Embedded: the
French and English words (num2words) for 31,000 numbers below a billion -- every number 0..999,
then 5,000 drawn at random for each length of 4 to 9 digits, so the phrases run evenly from one
word to eighteen, e.g. ``("trois cent quarante-deux", "three hundred and forty-two")`` or
``("neuf cent quatre-vingt-sept millions six cent cinquante-quatre mille trois cent vingt et un",
"nine hundred and eighty-seven million, six hundred and fifty-four thousand, three hundred and
twenty-one")`` (built by ``data/build_text.py fra-eng``); and, offline only, FreeDict's
French->English dictionary senses.
"""

from __future__ import annotations

from pathlib import Path

from torchflow.data import archives, filestore, manifests, store
from torchflow.data.pairs import Pairs
from torchflow.data.store import CorruptFileError, DatasetInfo
from torchflow.data.tutorial import PYTORCH_TUTORIAL_ZIP, TUTORIAL_DOWNLOAD


def _embedded_pairs(folder: str, filename: str, name: str, note: str) -> Pairs:
    rows = archives.read_tsv(manifests.read_embedded_text(folder, filename), 2)
    return Pairs([(fr, en) for fr, en in rows], manifests.embedded_info(folder, filename, name, "all", len(rows), note))


def sources() -> list:
    """Where the pairs can come from, in the order they are tried."""

    def canonical(paths: list[Path]) -> Pairs:
        with archives.open_zip(paths[0], "fra-eng") as archive:
            lines = archive.read(archives.zip_member(archive, "eng-fra.txt", paths[0])).decode("utf-8").splitlines()
        pairs = [(cols[1].strip(), cols[0].strip()) for cols in (line.split("\t") for line in lines) if len(cols) >= 2]
        if len(pairs) < 1000:
            raise CorruptFileError(
                f"{paths[0]}: eng-fra.txt holds only {len(pairs)} pairs (wrong format); "
                f"{filestore.fetch_fix('fra-eng')}"
            )
        return Pairs(pairs, DatasetInfo("Tatoeba French-English", "all", len(pairs),
                                        f"{PYTORCH_TUTORIAL_ZIP} (data/eng-fra.txt)", "CC BY 2.0 FR (Tatoeba)"))

    def embedded() -> Pairs:
        return _embedded_pairs("fra-eng", "numbers.tsv.gz", "French-English number phrases (num2words)",
                               "Offline stand-in for Tatoeba: 31,000 numbers below a billion (all of 0-999, then 5,000 "
                               "of each length of 4-9 digits) written out in both languages.")

    return [*filestore.canonical_sources("fra-eng", [TUTORIAL_DOWNLOAD], canonical),
            manifests.embedded_source("fra-eng", embedded, "the embedded stand-in (number phrases, not sentences)")]


def load_fra_eng(*, source: str = "auto") -> Pairs:
    """French->English pairs ``(french, english)``; ``source`` as in :func:`torchflow.data.load_images`."""
    return store.resolve("fra-eng", sources(), source=source)


def dictionary_sources() -> list:
    """FreeDict's senses ship only with TorchFlow (built from Debian ``dict-freedict-fra-eng``)."""

    def embedded() -> Pairs:
        return _embedded_pairs("fra-eng", "freedict.tsv.gz", "FreeDict French-English dictionary",
                               "One pair per numbered sense of a headword.")

    return [manifests.embedded_source("fra-eng", embedded, "the embedded dictionary (the whole of it)")]


def load_fra_eng_dictionary(*, source: str = "auto") -> Pairs:
    """FreeDict French->English: ``(headword, one sense's English translations)``; embedded only."""
    return store.resolve("fra-eng-dictionary", dictionary_sources(), source=source)
