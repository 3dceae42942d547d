"""Words as numbers: tokens, vocabularies, the training windows of word embeddings, padded batches.

Framework-free (NumPy), so that both twins read exactly the same arrays:

* :func:`tokenize` cuts a text into lower-case words;
* :class:`Vocabulary` numbers the most frequent words (id 0 the most frequent, unless
  special entries such as a padding ``"<pad>"`` come first);
* :func:`ngram_examples`, :func:`cbow_examples`, :func:`skipgram_examples` make the
  (input, target) pairs of the N-gram language model, CBOW and skip-gram from a
  stream of word ids;
* :func:`keep_probability` and :func:`subsample` drop frequent words at random, and
  :func:`unigram_noise` with :func:`draw_negatives` draws noise words, as word2vec's
  negative sampling does (Mikolov et al., 2013);
* :func:`pad_sequences` and :func:`char_ids` make padded batches of sentences and of
  the characters of their words (for the tagger).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-case words of ``text`` (letters, with an inner apostrophe: ``"o'er"``); punctuation dropped."""
    return WORD.findall(text.lower())


@dataclass(frozen=True)
class Vocabulary:
    """Words numbered ``0..len-1``: ``specials`` first, then by decreasing frequency (ties by first use)."""

    words: tuple[str, ...]
    counts: tuple[int, ...] = ()
    unknown: str | None = None
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {word: i for i, word in enumerate(self.words)})
        if len(self.index) != len(self.words):
            raise ValueError("a vocabulary lists each word once")
        if self.unknown is not None and self.unknown not in self.index:
            raise ValueError(f"the unknown-word entry {self.unknown!r} is not in the vocabulary")

    @classmethod
    def build(cls, tokens: Iterable[str], max_size: int | None = None, min_count: int = 1,
              specials: Sequence[str] = (), unknown: str | None = None) -> Vocabulary:
        """The ``max_size`` most frequent tokens seen at least ``min_count`` times, after ``specials``."""
        if max_size is not None and max_size <= len(specials):
            raise ValueError(f"max_size {max_size} leaves no room after {len(specials)} special entries")
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count}")
        counts = Counter(tokens)
        ranked = [(w, c) for w, c in counts.most_common() if c >= min_count and w not in specials]
        if max_size is not None:
            ranked = ranked[: max_size - len(specials)]
        return cls(tuple(specials) + tuple(w for w, _ in ranked),
                   tuple(0 for _ in specials) + tuple(c for _, c in ranked), unknown)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Ids of ``tokens``; a token outside the vocabulary becomes ``unknown``'s id, or is dropped
        when the vocabulary has no unknown-word entry."""
        unknown = self.index.get(self.unknown) if self.unknown is not None else None
        ids = [self.index.get(t, unknown) for t in tokens]
        return np.array([i for i in ids if i is not None], dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.words[int(i)] for i in ids]


def _check_stream(ids: np.ndarray, needed: int, what: str) -> np.ndarray:
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1:
        raise ValueError(f"{what}: expected a 1-D stream of word ids, got shape {ids.shape}")
    if len(ids) < needed:
        raise ValueError(f"{what}: a stream of {len(ids)} words is shorter than one example ({needed} words)")
    return ids


def ngram_examples(ids: np.ndarray, context_size: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """N-gram language model: the ``context_size`` previous words -> the next word.

    ``[the, brown, quick, fox]`` with 2 gives ``([the, brown], quick), ([brown, quick], fox)``.
    """
    if context_size < 1:
        raise ValueError(f"context_size must be >= 1, got {context_size}")
    ids = _check_stream(ids, context_size + 1, "ngram_examples")
    windows = np.lib.stride_tricks.sliding_window_view(ids, context_size + 1)
    return windows[:, :-1].copy(), windows[:, -1].copy()


def cbow_examples(ids: np.ndarray, window: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """CBOW: the ``window`` words on each side -> the word in the middle.

    ``[the, brown, quick, fox]`` with 1 gives ``([the, quick], brown), ([brown, fox], quick)``.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    ids = _check_stream(ids, 2 * window + 1, "cbow_examples")
    windows = np.lib.stride_tricks.sliding_window_view(ids, 2 * window + 1)
    return np.delete(windows, window, axis=1), windows[:, window].copy()


def skipgram_examples(ids: np.ndarray, window: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Skip-gram: each word -> each word within ``window`` of it, one pair per (word, neighbour).

    ``[the, brown, quick]`` with 1 gives ``(the, brown), (brown, the), (brown, quick), (quick, brown)``.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    ids = _check_stream(ids, 2, "skipgram_examples")
    centers, contexts = [], []
    positions = np.arange(len(ids))
    for offset in [o for o in range(-window, window + 1) if o != 0]:
        valid = (positions + offset >= 0) & (positions + offset < len(ids))
        centers.append(positions[valid])
        contexts.append(positions[valid] + offset)
    centers, contexts = np.concatenate(centers), np.concatenate(contexts)
    order = np.lexsort((contexts, centers))  # in text order: each word's neighbours from left to right
    return ids[centers[order]], ids[contexts[order]]


def pad_sequences(sequences: Sequence[Sequence[int]], pad: int = 0, multiple: int = 1,
                  max_length: int | None = None) -> np.ndarray:
    """Right-padded ``(N, T)`` int64 array; ``T`` the longest length rounded up to ``multiple``
    (few distinct shapes, so a compiled step is traced a few times only), cut at ``max_length``."""
    if multiple < 1:
        raise ValueError(f"multiple must be >= 1, got {multiple}")
    longest = max((len(s) for s in sequences), default=0)
    if max_length is not None:
        longest = min(longest, max_length)
    length = max(-(-longest // multiple) * multiple, multiple)
    out = np.full((len(sequences), length), pad, dtype=np.int64)
    for row, sequence in enumerate(sequences):
        values = list(sequence)[:length]
        out[row, : len(values)] = values
    return out


def char_ids(sentences: Sequence[Sequence[str]], alphabet: Vocabulary, word_length: int,
             length: int) -> np.ndarray:
    """``(N, length, word_length)`` character ids of each word (id 0 pads; a word longer than
    ``word_length`` keeps its *last* characters, where the suffixes that mark a word's class are)."""
    if alphabet.words[0] != "<pad>":
        raise ValueError("the alphabet's id 0 must be the padding entry '<pad>'")
    unknown = alphabet.index.get(alphabet.unknown) if alphabet.unknown else None
    out = np.zeros((len(sentences), length, word_length), dtype=np.int64)
    for row, sentence in enumerate(sentences):
        for col, word in enumerate(list(sentence)[:length]):
            ids = [alphabet.index.get(c, unknown) for c in word[-word_length:]]
            ids = [i for i in ids if i is not None]
            out[row, col, : len(ids)] = ids
    return out


def split_stream(tokens: Sequence[str], vocab_size: int, train: float = 0.8,
                 valid: float = 0.1) -> tuple[Vocabulary, np.ndarray, np.ndarray, np.ndarray]:
    """A running text cut into contiguous train / validation / test parts (the first ``train``, the
    next ``valid``, the rest), and the ``vocab_size`` most frequent *training* words numbered by
    frequency; each part becomes a stream of ids with the other words dropped (as word2vec does)."""
    if not (0 < train and 0 <= valid and train + valid < 1):
        raise ValueError(f"train and valid must be fractions with train + valid < 1, got {train} and {valid}")
    cut_train, cut_valid = int(train * len(tokens)), int((train + valid) * len(tokens))
    vocabulary = Vocabulary.build(tokens[:cut_train], max_size=vocab_size)
    parts = (tokens[:cut_train], tokens[cut_train:cut_valid], tokens[cut_valid:])
    return (vocabulary, *(vocabulary.encode(part) for part in parts))


def keep_probability(counts: np.ndarray, threshold: float = 1e-3, formula: str = "paper") -> np.ndarray:
    """The chance that each word (of frequency ``f = count / total``) is kept by frequent-word subsampling.

    ``"paper"``: ``min(1, sqrt(t / f))`` (Mikolov et al., 2013, who write the discard probability
    ``1 - sqrt(t / f)``); ``"code"``: ``min(1, sqrt(t / f) + t / f)``, what word2vec's C code computes.
    Words rarer than ``t`` are always kept."""
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    counts = np.asarray(counts, dtype=np.float64)
    ratio = threshold / np.maximum(counts / counts.sum(), 1e-300)
    if formula == "paper":
        keep = np.sqrt(ratio)
    elif formula == "code":
        keep = np.sqrt(ratio) + ratio
    else:
        raise ValueError(f"formula must be 'paper' or 'code', got {formula!r}")
    return np.minimum(keep, 1.0)


def subsample(ids: np.ndarray, keep: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The stream ``ids`` with each word kept with probability ``keep[word]`` (the others removed, so
    that a window then reaches further: word2vec subsamples before it cuts windows)."""
    ids = np.asarray(ids, dtype=np.int64)
    return ids[rng.random(len(ids)) < np.asarray(keep)[ids]]


def unigram_noise(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """word2vec's noise distribution: the unigram frequencies raised to ``power`` and renormalised (3/4
    flattens them: frequent words are drawn less, rare words more, than by frequency)."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


def draw_negatives(noise: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Noise word ids of ``shape`` (e.g. (batch, k): k for each pair), drawn with replacement from ``noise``."""
    return rng.choice(len(noise), size=shape, p=noise).astype(np.int64)
